"""Client behaviour that matters most against servers we do not control (issue 11): a seed-only server that goes
away for 20 s, a redirect that would carry a part to another origin, and ``snaplark server check``."""

from __future__ import annotations

import time

import pytest

from tests.integration.programmable_server import ProgrammableServer, Reply
from tests.procutil import wait_until
from tests.integration.upload.helpers import MIB, TokenHolder, make_engine, sha256_file, write_random
from tests.server_kinds import SeedKind, make_server
from tray.api import errors
from tray.api.client import ApiClient
from tray.api.server_check import survey
from tray.upload.engine import UploadFailed
from tray.upload.events import StateChanged
from tray.upload.journal import UploadJournal
from tray.upload.state import UploadState as S


@pytest.fixture
def journal(tmp_path):
    j = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    yield j
    j.close()


def test_seed_only_server_gone_for_20_s_then_back_the_upload_resumes_by_itself(tmp_path, journal):
    """The server stops answering (listener closed, live connections cut) for 20 real seconds mid-upload, then
    comes back on the same port: the engine goes offline, probes (a 404 on /health counts as "back"), resumes and
    finishes with nobody calling it."""
    seed = SeedKind(tmp_path / "seed").start()
    path = tmp_path / "clip.webm"
    write_random(path, 26 * MIB, seed=7)
    events: list = []
    seed.fault("/api/v1/videos/chunk", count=10_000, status=None, delay=0.3)  # parts take a while: room to cut
    engine = make_engine(seed.api_url, TokenHolder(seed.token), journal, events=events, scale=0.05,
                         connect_timeout=1.0, read_timeout=5.0)
    try:
        up = engine.upload_file(path)
        wait_until(lambda: up.progress().parts_uploaded >= 2, 60, "two parts acked")
        seed.stop()
        down_at = time.monotonic()
        wait_until(lambda: up.state is S.PAUSED_OFFLINE, 30, "offline")
        assert not engine.is_online
        time.sleep(max(0.0, 20.0 - (time.monotonic() - down_at)))
        assert up.state is S.PAUSED_OFFLINE  # still waiting, not failed
        seed.clear_faults()
        seed.start()  # same port
        url = up.wait(120)
    finally:
        assert engine.stop(15)
        seed.stop()
    seed.start()
    try:
        assert seed.file_sha256(url) == sha256_file(path)
    finally:
        seed.stop()
    states = [e.new for e in events if isinstance(e, StateChanged)]
    assert S.PAUSED_OFFLINE in states and S.FAILED not in states
    assert journal.get_session(up.id).state == "completed"


def test_a_307_on_a_chunk_to_another_origin_is_refused_and_the_bytes_stay_here(tmp_path, journal):
    part = b"secret recording bytes " * 1000
    with ProgrammableServer() as origin, ProgrammableServer() as other:
        elsewhere = other.url.replace("127.0.0.1", "localhost") + "/api/v1/videos/chunk"
        origin.route("POST", "/api/v1/videos/chunk", Reply(307, {}, headers={"Location": elsewhere}))
        other.route("POST", "/api/v1/videos/chunk", Reply(200, {"received": True, "chunkIndex": 0}))
        client = ApiClient(origin.url + "/api/v1", lambda: "tok")
        with pytest.raises(errors.PermanentError, match="redirected to another server") as exc:
            client.video_chunk("s1", 0, part)
        assert elsewhere in str(exc.value)
        assert other.seen == []  # nothing, not even a connection's worth of request, reached the other origin
        assert part in origin.seen[-1].body

        # the engine treats it as permanent: FAILED, file and journal kept, still nothing sent elsewhere
        origin.route("POST", "/api/v1/videos/init", Reply(200, {"sessionId": "s1"}))
        path = tmp_path / "clip.webm"
        write_random(path, 1000)
        engine = make_engine(origin.url + "/api/v1", TokenHolder("tok"), journal)
        try:
            up = engine.upload_file(path)
            with pytest.raises(UploadFailed, match="redirected to another server"):
                up.wait(30)
        finally:
            engine.stop(10)
        assert other.seen == [] and path.exists() and journal.get_session(up.id).state == "failed"


def test_a_same_origin_307_on_a_chunk_is_followed(tmp_path):
    with ProgrammableServer() as origin:
        origin.route("POST", "/api/v1/videos/chunk", Reply(307, {}, headers={"Location": "/api/v1/videos/chunk2"}))
        origin.route("POST", "/api/v1/videos/chunk2", Reply(200, {"received": True, "chunkIndex": 0}))
        ApiClient(origin.url + "/api/v1", lambda: "tok").video_chunk("s1", 0, b"abc")
        assert origin.seen[-1].path == "/api/v1/videos/chunk2" and b"abc" in origin.seen[-1].body


@pytest.mark.parametrize("kind", ["reference", "seed"])
def test_server_check_reports_what_each_kind_supports(tmp_path, kind):
    srv = make_server(kind, tmp_path / "srv").start()
    try:
        client = ApiClient(srv.api_url, lambda: srv.token)
        report = survey(client)
        found = {f.name: f.supported for f in report.findings}
        text = report.render()
    finally:
        srv.stop()
    assert report.uploads_work, text
    extensions = ["/health", "/me", "per-part sha256", "GET /videos/{id}/status", "whole-file sha256",
                  "served Range"]
    expected = kind == "reference"
    assert {name: found[name] for name in extensions} == {name: expected for name in extensions}, text
    assert found["served file"] is True and found["token accepted"] is True
    assert "Uploads will work." in text


def test_server_check_with_a_refused_token_says_so(tmp_path):
    srv = SeedKind(tmp_path / "srv").start()
    try:
        report = survey(ApiClient(srv.api_url, lambda: "wrong"))
    finally:
        srv.stop()
    assert not report.uploads_work and "token is refused" in report.problem


def test_probe_counts_any_answer_and_offline_only_without_one(tmp_path):
    with ProgrammableServer() as html404:
        html404.route("GET", "/api/v1/health", Reply(404, raw=b"<html>Cannot GET /api/v1/health</html>"))
        assert ApiClient(html404.url + "/api/v1", lambda: None).probe() is False  # reachable, no /health
        assert ApiClient(html404.url + "/api/v1", lambda: None).me() is None  # no /me either: not an error
    seed = SeedKind(tmp_path / "s").start()
    port = seed.port
    seed.stop()
    with pytest.raises(errors.Offline):
        ApiClient(f"http://127.0.0.1:{port}/api/v1", lambda: None, connect_timeout=1.0).probe()


def test_wait_for_login_does_not_hammer_a_seed_server(tmp_path, journal):
    """AUTH_REQUIRED against a server without /me: the engine re-checks only when the token changed (no chunk is
    re-sent with the refused token over and over)."""
    seed = SeedKind(tmp_path / "s").start()
    path = tmp_path / "clip.webm"
    write_random(path, 6 * MIB)
    tokens = TokenHolder("refused")
    engine = make_engine(seed.api_url, tokens, journal, scale=0.001)
    try:
        up = engine.upload_file(path)
        wait_until(lambda: up.state is S.AUTH_REQUIRED, 10, "401 -> AUTH_REQUIRED")
        inits_before = sum(1 for _m, p, _s in seed.requests if p == "/api/v1/videos/init")
        time.sleep(0.5)  # = 500 s of the engine's (scaled) time: ~10 login checks
        inits_after = sum(1 for _m, p, _s in seed.requests if p == "/api/v1/videos/init")
        assert inits_after == inits_before  # many (scaled) probe periods passed; no retry with the same token
        tokens.token = seed.token
        url = up.wait(30)
    finally:
        engine.stop(10)
        seed.stop()
    assert url
