"""Idle session expiry with an injected clock: expired sessions answer 404 session_not_found; the cleanup removes
them from the DB and the storage (S3: AbortMultipartUpload)."""

from __future__ import annotations

import boto3
import requests

from .conftest import finalize, init_session, send_chunk, webm_bytes


class FakeClock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _open_uploads(s) -> list:
    cfg = s.thread.config
    client = boto3.client("s3", endpoint_url=cfg.s3_endpoint_url, region_name="us-east-1")
    return client.list_multipart_uploads(Bucket=cfg.s3_bucket).get("Uploads", [])


def test_idle_session_expires(make_server, backend, database):
    clock = FakeClock()
    s = make_server(backend, clock=clock, session_idle_expiry=100.0, database=database)
    sid = init_session(s)
    assert send_chunk(s, sid, 0, b"a" * 1000).status_code == 200
    clock.t += 90  # activity keeps it alive
    st = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10)
    assert st.status_code == 200
    clock.t += 90
    assert send_chunk(s, sid, 1, b"b" * 10).status_code == 200
    clock.t += 101
    r = send_chunk(s, sid, 2, b"c" * 10)
    assert r.status_code == 404 and r.json()["error"] == "session_not_found"
    for resp in (requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10),
                 finalize(s, sid, 2)):
        assert resp.status_code == 404 and resp.json()["error"] == "session_not_found"
    assert s.db.query("SELECT * FROM sessions WHERE id = ?", (sid,)) == []
    assert s.db.query("SELECT * FROM parts WHERE session_id = ?", (sid,)) == []
    if backend == "local":
        assert not (s.data_dir / "sessions" / sid).exists()
    else:
        assert _open_uploads(s) == []


def test_cleanup_task_aborts_idle_sessions(make_server, backend, database):
    clock = FakeClock()
    s = make_server(backend, clock=clock, session_idle_expiry=50.0, database=database)
    old = init_session(s)
    assert send_chunk(s, old, 0, b"x" * 100).status_code == 200
    clock.t += 40
    young = init_session(s)
    done = init_session(s)
    assert send_chunk(s, done, 0, webm_bytes(100, b"y")).status_code == 200
    assert finalize(s, done, 1).status_code == 200
    clock.t += 20
    assert s.service.cleanup_expired() == 1
    ids = {r["id"] for r in s.db.query("SELECT id FROM sessions")}
    assert ids == {young, done}
    if backend == "s3":
        assert {u["UploadId"] for u in _open_uploads(s)} == {
            s.db.query_one("SELECT upload_id FROM sessions WHERE id = ?", (young,))["upload_id"]}
    clock.t += 10_000  # finalized sessions never expire; their file stays served
    assert s.service.cleanup_expired() == 1
    assert finalize(s, done, 1).status_code == 200


def test_cleanup_loop_runs_by_itself(make_server):
    import time

    clock = FakeClock()
    s = make_server("local", clock=clock, session_idle_expiry=10.0, cleanup_interval=0.05)
    sid = init_session(s)
    clock.t += 11
    deadline = time.monotonic() + 10
    while s.db.query("SELECT id FROM sessions WHERE id = ?", (sid,)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s.db.query("SELECT id FROM sessions WHERE id = ?", (sid,)) == []
