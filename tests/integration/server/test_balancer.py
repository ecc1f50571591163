"""Two server instances behind a real round-robin load balancer (nginx from apt), on one PostgreSQL database and one
S3 bucket (moto), no sticky sessions (issue 17): the upload engine talks to the balanced URL only; the parts of one
recording land on both instances (or, with parts straight to S3, both instances hand out part URLs and count parts)
and the stored file is sha256-identical to the local one; a SIGKILLed instance is routed around."""

from __future__ import annotations

import hashlib
import random
import re

import pytest
import requests

from tests.integration.upload.helpers import MIB, sha256_file
from tests.nginx import free_port, round_robin_block, running_nginx
from tests.procutil import wait_until

from .test_reverse_proxy import make_engine


def upstream_log(path) -> list[tuple[str, str, str]]:
    """(request line, status, upstream address(es)) of each request the balancer logged."""
    return [re.match(r"^(.*) (\d{3}) (.*)$", line).groups() for line in path.read_text().splitlines()]


@pytest.fixture(params=["chunk", "direct"])
def balanced(request, make_server, tmp_path):
    """(balanced base URL, [instance, instance], token, balancer's upstream log). ``chunk``: parts go through the
    servers (POST /videos/chunk); ``direct``: straight to S3 with presigned URLs, the servers count them."""
    extra = {"direct_parts": request.param == "direct"}
    a = make_server("s3", database="postgres", **extra)
    b = make_server("s3", database="postgres", s3_bucket=a.thread.config.s3_bucket, **extra)
    port = free_port()
    log = tmp_path / "upstreams.log"
    block = round_robin_block([a.thread.port, b.thread.port], port, log=log)
    base = f"http://127.0.0.1:{port}"
    with running_nginx(tmp_path / "nginx", block, lambda: _answers(base)):
        yield base, [a, b], b.token, log


def balanced_kind(s) -> str:
    return "direct" if s.thread.config.direct_parts else "chunk"


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_recording_parts_land_on_both_instances_and_the_file_matches(balanced, tmp_path):
    from tray.upload.journal import UploadJournal

    base, (a, b), token, log = balanced
    path = tmp_path / "rec.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + random.Random(3).randbytes(17 * MIB))
    journal = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    engine = make_engine(f"{base}/api/v1", token, True, journal)
    try:
        url = engine.upload_file(path, {"fps": 25}).wait(120)
    finally:
        assert engine.stop(10)
        journal.close()
    assert url.startswith(f"{base}/v/"), url
    requests_ok = [(line.split(" ")[1], addr) for line, status, addr in upstream_log(log) if status == "200"]
    chunks = [addr for path, addr in requests_ok if path == "/api/v1/videos/chunk"]
    direct = [addr for path, addr in requests_ok if "/parts/" in path]  # a part's URL asked, then its count
    instances = {f"127.0.0.1:{s.thread.port}" for s in (a, b)}
    if balanced_kind(a) == "direct":  # no part byte went through a server; each instance did some of the work
        assert chunks == [] and len(direct) == 2 * 4 and set(direct) == instances, direct
    else:  # the parts themselves landed on both instances
        assert direct == [] and len(chunks) == 4 and set(chunks) == instances, chunks
    for via in (base, a.url, b.url):  # through the balancer and from either instance
        r = requests.get(url.replace(base, via), headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha256_file(path)


def test_kill_9_of_one_instance_mid_recording_loses_and_duplicates_nothing(tmp_path, postgres_url, monkeypatch):
    """Two ``snaplark-server serve`` processes (one PostgreSQL, one shared data dir) behind the balancer; a live
    recording is streamed in parts; after some parts one instance is killed with SIGKILL; the balancer routes
    around it and the client finishes: the parts the dead instance acknowledged count, none is sent twice."""
    from tray.upload.journal import UploadJournal

    from .conftest import start_cli_server, stop_process
    from .test_cli_users import run_cli
    from .test_reverse_proxy import sent_while_recording

    monkeypatch.setenv("SNAPLARK_DATABASE_URL", postgres_url)
    data = tmp_path / "shared"
    config = tmp_path / "server.toml"
    config.write_text("shared_data_dir = true\n")
    started = [start_cli_server(data, global_args=("--config", str(config))) for _ in range(2)]
    procs = [proc for proc, _ in started]
    ports = [int(url.rsplit(":", 1)[1]) for _, url in started]
    token = run_cli(data, "user", "add", "alice").stdout.strip().splitlines()[-1]
    port = free_port()
    block = round_robin_block(ports, port, log=tmp_path / "upstreams.log")
    base = f"http://127.0.0.1:{port}"
    path = tmp_path / "rec.webm"
    size = 6 * MIB
    rng = random.Random(9)
    path.write_bytes(b"\x1a\x45\xdf\xa3" + rng.randbytes(size - 4))
    journal = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    try:
        with running_nginx(tmp_path / "nginx", block, lambda: _answers(base)):
            engine = make_engine(f"{base}/api/v1", token, True, journal)
            try:
                up = engine.start_recording_upload(path, {"resolution": "1280x720"})
                marks = list(range(300 * 1024, size, 300 * 1024))
                for i, n in enumerate(marks):
                    if i == len(marks) // 2:
                        procs[0].kill()  # SIGKILL, mid-recording: half the parts are acknowledged
                        procs[0].wait(10)
                    up.durable(n)
                    wait_until(lambda: sent_while_recording(journal.parts(up.id), n), 30, f"parts up to {n}")
                up.finished(size, 6.0, {})
                url = up.wait(60)
            finally:
                assert engine.stop(10)
        parts = journal.parts(up.id)
        assert [p.index for p in parts] == list(range(len(parts))) and all(p.acked for p in parts)
        stored = [addr for line, status, addr in upstream_log(tmp_path / "upstreams.log")
                  if line.startswith("POST /api/v1/videos/chunk ") and status == "200"]
        assert len(stored) == len(parts) > 10  # each part stored once: none re-sent after the kill
        dead, alive = (f"127.0.0.1:{p}" for p in ports)
        assert dead in stored[: len(stored) // 2] and alive in stored  # both served parts before the kill ...
        assert any(addr == f"{dead}, {alive}" for addr in stored)  # ... after it the balancer routed around it
        assert all(addr.endswith(alive) for addr in stored[len(stored) // 2 + 1:])
        survivor = f"http://127.0.0.1:{ports[1]}"
        r = requests.get(url.replace(base, survivor), headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha256_file(path)
    finally:
        journal.close()
        for p in procs:
            stop_process(p)
