"""The upload engine with parts straight to storage (issue 17, acceptance 3): the reference server on S3 (moto's
server behind tests/s3_gate.py, which refuses expired URLs and wrong Content-MD5s as AWS does) offers presigned
part URLs; the engine PUTs every part there and the server only counts them -- its own request-body counter shows it
never received part bytes -- and each file comes back sha256-identical. A part the server refuses at count time,
an expired URL, an unreachable storage: that part goes to /videos/chunk, nothing is lost."""

from __future__ import annotations

import time

import pytest

from tray.api.client import ApiClient
from tray.api.server_check import survey

from tests.integration.server.conftest import moto_endpoint  # noqa: F401 - moto's S3 server fixture
from tests.s3_gate import S3Gate, server_received_bytes

from .helpers import MIB, GrowingFile, TokenHolder, download_sha, make_engine, sha256_file, write_random

CHUNK_ROUTE = "/api/v1/videos/chunk"


class S3Reference:
    """The reference server on S3 through the gate, in this process (its metrics readable)."""

    def __init__(self, data_dir, endpoint: str, **config) -> None:
        from snaplark_server.config import ServerConfig
        from snaplark_server.runner import ServerThread
        from snaplark_server.users import create_user

        bucket = "snaplark-" + data_dir.name.lower().replace("_", "-")[-20:]
        storage = config.pop("storage", "s3")
        s3 = dict(s3_bucket=bucket, s3_endpoint_url=endpoint, s3_region="us-east-1") if storage == "s3" else {}
        self.thread = ServerThread(ServerConfig(data_dir=data_dir, port=0, storage=storage, cleanup_interval=3600.0,
                                                **s3, **config)).start()
        self.token = create_user(self.thread.app.state.db, "alice")
        self.url, self.api_url = self.thread.url, self.thread.api_url

    def received(self) -> dict[str, float]:
        return server_received_bytes(self.thread.app)

    def errors(self, code: str) -> float:
        value = self.thread.app.state.metrics.registry.get_sample_value(
            "snaplark_api_errors_total", {"code": code, "status": "422"})
        return value or 0.0

    def stop(self) -> None:
        self.thread.stop(timeout=10)


@pytest.fixture
def gate(moto_endpoint):  # noqa: F811
    g = S3Gate(moto_endpoint).start()
    yield g
    g.stop()


@pytest.fixture
def s3_server(tmp_path, gate):
    servers = []

    def start(**config) -> S3Reference:
        srv = S3Reference(tmp_path / f"srv{len(servers)}", gate.url, **config)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


def upload(srv, journal, path):
    engine = make_engine(srv.api_url, TokenHolder(srv.token), journal)
    try:
        up = engine.upload_file(path, {"fps": 25})
        url = up.wait(60)
    finally:
        assert engine.stop(10)
    return up, url


def test_a_recording_goes_straight_to_storage_and_the_server_never_sees_its_bytes(s3_server, gate, journal,
                                                                                 tmp_path):
    srv = s3_server()
    path = tmp_path / "rec.webm"
    engine = make_engine(srv.api_url, TokenHolder(srv.token), journal)
    try:
        up = engine.start_recording_upload(path, {"resolution": "1280x720"})
        writer = GrowingFile(path, 12 * MIB + 4321, step=512 * 1024).start(up)
        writer.join(60)
        url = up.wait(60)
    finally:
        assert engine.stop(10)
    assert download_sha(srv.url, url, srv.token) == sha256_file(path)
    rec = journal.get_session(up.id)
    assert [(p.index, p.length, p.acked) for p in rec.parts] == [(0, 5 * MIB, True), (1, 5 * MIB, True),
                                                                 (2, 2 * MIB + 4321, True)]
    got = srv.received()
    assert CHUNK_ROUTE not in got and sum(got.values()) < 16 * 1024, got  # JSON only; 12 MiB went to S3
    assert gate.puts == 3


def test_an_upload_resumed_after_a_restart_still_goes_straight_to_storage(s3_server, gate, journal, tmp_path):
    srv = s3_server()
    path = tmp_path / "rec.webm"
    sha = write_random(path, 11 * MIB + 7)
    engine = make_engine(srv.api_url, TokenHolder(srv.token), journal, scale=0.001)
    up = engine.start_recording_upload(path)
    up.durable(11 * MIB)  # part 1 (5 MiB) is cut and sent; part 0 waits for the end of the recording
    deadline = time.monotonic() + 30
    while sum(p.acked for p in journal.parts(up.id)) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert engine.stop(10)  # the app quits mid-recording
    assert [p.acked for p in journal.get_session(up.id).parts] == [False, True]
    engine2 = make_engine(srv.api_url, TokenHolder(srv.token), journal)
    try:
        (again,) = engine2.resume_all()  # the session's /status says directParts again
        url = again.wait(60)
    finally:
        assert engine2.stop(10)
    assert download_sha(srv.url, url, srv.token) == sha
    got = srv.received()
    assert CHUNK_ROUTE not in got and gate.puts == 3, got


@pytest.mark.parametrize("how, code", [("flip", "checksum_mismatch"), ("grow", "size_mismatch")])
def test_a_part_refused_at_count_time_is_sent_again(s3_server, gate, journal, tmp_path, how, code):
    srv = s3_server()
    path = tmp_path / "clip.webm"
    sha = write_random(path, 11 * MIB + 99)
    gate.tamper_next_puts(1, how)  # the storage ends up holding other bytes than the client PUT for one part
    up, url = upload(srv, journal, path)
    assert download_sha(srv.url, url, srv.token) == sha
    assert srv.errors(code) == 1  # refused once at count time ...
    got = srv.received()
    assert 5 * MIB <= got[CHUNK_ROUTE] < 5 * MIB + 4096, got  # ... and that one part went through the server
    assert gate.puts == 3


@pytest.mark.parametrize("expired", ["once", "always"])
def test_an_expired_url_gets_a_new_one_or_the_part_goes_through_the_server(s3_server, gate, journal, tmp_path,
                                                                           expired):
    srv = s3_server(direct_part_url_expiry=60)
    path = tmp_path / "clip.webm"
    sha = write_random(path, 6 * MIB + 5)
    if expired == "once":
        gate.expire_next_puts(1)  # a URL that waited too long (a suspended laptop)
    else:
        gate.advance(3600)  # every URL is past its expiry when it arrives (a clock far off)
    up, url = upload(srv, journal, path)
    assert download_sha(srv.url, url, srv.token) == sha
    got = srv.received()
    if expired == "once":
        assert gate.expired == 1 and CHUNK_ROUTE not in got, got
    else:  # each part: a URL, refused; a new URL, refused; then /videos/chunk
        assert gate.expired == 4 and got[CHUNK_ROUTE] >= 6 * MIB + 5, got


def test_an_unreachable_storage_turns_the_direct_path_off(s3_server, gate, journal, tmp_path):
    import socket

    with socket.socket() as sock:  # a port nothing listens on: the address the URLs are signed for
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv = s3_server(s3_presign_endpoint_url=dead)
    path = tmp_path / "clip.webm"
    sha = write_random(path, 11 * MIB + 1)
    up, url = upload(srv, journal, path)
    assert download_sha(srv.url, url, srv.token) == sha
    got = srv.received()
    assert got[CHUNK_ROUTE] >= 11 * MIB + 1 and gate.puts == 0, got
    assert got.get("/api/v1/videos/{session_id}/parts/{index}/url", 0) < 1024  # asked once, then never again


@pytest.mark.parametrize("storage", ["s3", "local"])
def test_server_check_says_whether_parts_go_straight_to_storage(s3_server, storage):
    srv = s3_server(storage=storage)
    report = survey(ApiClient(srv.api_url, lambda: srv.token))
    found = {f.name: f for f in report.findings}
    text = report.render()
    assert report.uploads_work, text
    assert found["parts straight to storage"].supported is (storage == "s3"), text
    if storage == "s3":
        assert "the server counted it" in text
    else:
        assert "not offered" in text and "/videos/chunk" in text
