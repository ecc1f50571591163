"""PostgreSQL misbehaving under the scale-out server (issue 17): restarted (``pg_ctl restart -m fast``: every
connection cut) in the middle of a live recording's upload behind the balancer -> the client finishes, each part
stored exactly once, the file sha256-identical; the expiry leader's connections killed (``pg_terminate_backend``) in
the middle of expiring a session -> another instance takes over and no session is aborted twice."""

from __future__ import annotations

import hashlib
import random
import threading

import requests

from snaplark_server.app import cleanup_once
from tests.integration.upload.helpers import MIB, sha256_file
from tests.nginx import free_port, round_robin_block, running_nginx
from tests.s3_gate import S3Gate
from tests.procutil import wait_until

from .conftest import FIVE_MIB, finalize, init_session, make_parts, send_chunk, sha
from .test_balancer import _answers, upstream_log
from .test_expiry import FakeClock
from .test_scale_out import sessions_and_aborts
from .test_reverse_proxy import make_engine, sent_while_recording


def test_postgres_restarted_mid_recording_behind_the_balancer(make_server, postgres_cluster, tmp_path):
    from tray.upload.journal import UploadJournal

    shared = tmp_path / "shared"  # local storage on one data dir (64 KiB parts: many requests around the restart)
    a, b = (make_server("local", database="postgres", data_dir=shared, database_timeout=2.0) for _ in range(2))
    port = free_port()
    log = tmp_path / "upstreams.log"
    base = f"http://127.0.0.1:{port}"
    path = tmp_path / "rec.webm"
    size = 6 * MIB
    path.write_bytes(b"\x1a\x45\xdf\xa3" + random.Random(11).randbytes(size - 4))
    journal = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    try:
        with running_nginx(tmp_path / "nginx", round_robin_block([a.thread.port, b.thread.port], port, log=log),
                           lambda: _answers(base)):
            engine = make_engine(f"{base}/api/v1", b.token, True, journal)
            try:
                up = engine.start_recording_upload(path, {"resolution": "1280x720"})
                marks = list(range(300 * 1024, size, 300 * 1024))
                for i, n in enumerate(marks):
                    up.durable(n)  # the engine sends this part now ...
                    if i == len(marks) // 2:
                        postgres_cluster.restart()  # ... while every database connection is cut
                    wait_until(lambda: sent_while_recording(journal.parts(up.id), n), 60, f"parts up to {n}")
                up.finished(size, 6.0, {})
                url = up.wait(90)
            finally:
                assert engine.stop(10)
        parts = journal.parts(up.id)
        assert [p.index for p in parts] == list(range(len(parts))) and all(p.acked for p in parts)
        lines = upstream_log(log)
        stored = [line for line, status, _ in lines if line.startswith("POST /api/v1/videos/chunk ") and status == "200"]
        assert len(stored) == len(parts) > 10  # no part counted twice
        # the restart was felt: each instance's pool found its connections cut (and any request that was using one
        # then got 503 database_unavailable and was retried)
        assert all(s.db._pool.get_stats().get("connections_lost", 0) >= 1 for s in (a, b))
        assert sorted([a.db.is_leader(), b.db.is_leader()]) == [False, True]  # one expiry leader again
        for s in (a, b):
            r = requests.get(url.replace(base, s.url), headers=s.headers(), timeout=60)
            assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha256_file(path)
    finally:
        journal.close()


def _backend_pids(db) -> list[int]:
    """The PostgreSQL backends of this thread's bound pool connection and of the leader lock."""
    conns = [getattr(db._local, "conn", None), db._leader]
    return [c.info.backend_pid for c in conns if c is not None and not c.closed]


def test_expiry_leader_connections_killed_mid_expiry_no_session_aborted_twice(make_server, postgres_cluster):
    clock = FakeClock()
    a = make_server("s3", database="postgres", clock=clock, session_idle_expiry=100.0)
    b = make_server("s3", database="postgres", clock=clock, session_idle_expiry=100.0,
                    s3_bucket=a.thread.config.s3_bucket)
    sessions, aborted = sessions_and_aborts(a, b, 4)
    clock.t += 101
    assert a.db.is_leader()  # a leads; b waits
    assert cleanup_once(b.service, b.db) is None
    seen: list[str] = []
    real_query_one = a.db.query_one

    def query_one(sql, params=()):
        row = real_query_one(sql, params)
        if sql.startswith("SELECT * FROM sessions WHERE id") and params[0] in seen and not killed.is_set():
            killed.set()  # inside the session's lock, the row just read fresh: a's connections die
            pids = ", ".join(str(p) for p in _backend_pids(a.db))
            postgres_cluster.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN ({pids})")
        seen.append(params[0] if params else None)
        return row

    killed = threading.Event()
    a.db.query_one = query_one
    cleanup_once(a.service, a.db)  # fails on its dead connection (logged), whatever it got done before
    assert killed.is_set()
    assert cleanup_once(b.service, b.db) is not None  # the leader lock died with a's connection: b took over
    assert cleanup_once(a.service, a.db) is None  # a reconnects but is no longer the leader
    assert a.db.query_one("SELECT COUNT(*) FROM sessions")[0] == 0
    assert sorted(aborted) == sorted(sessions), aborted  # every session aborted, none twice


def test_connection_cut_between_storage_complete_and_commit_finalize_retried_on_the_other_instance(
        make_server, postgres_cluster, moto_endpoint, request):
    """The multipart upload is completed in S3, then the instance's database connection dies before the session is
    marked finalized (503): the client's retried finalize, on the other instance, must find the object S3 already
    assembled -- not lose the recording to a NoSuchUpload."""
    gate = S3Gate(moto_endpoint, minio=True).start()  # as deploy/compose.yaml's MinIO answers a repeated Complete
    request.addfinalizer(gate.stop)
    a = make_server("s3", database="postgres", s3_endpoint_url=gate.url)
    b = make_server("s3", database="postgres", s3_endpoint_url=gate.url, s3_bucket=a.thread.config.s3_bucket)
    parts = make_parts([FIVE_MIB, 1234], seed=17)
    whole = b"".join(parts)
    sid = init_session(a)
    for i, data in enumerate(parts):
        assert send_chunk((a, b)[i], sid, i, data).status_code == 200
    store = a.thread.app.state.storage
    real_complete = store.complete

    def complete_then_cut(*args):
        done = real_complete(*args)
        pid = a.db._local.conn.info.backend_pid  # the request's connection, holding the session's lock
        postgres_cluster.admin(f"SELECT pg_terminate_backend({pid})")
        return done

    store.complete = complete_then_cut
    first = finalize(a, sid, 2, sha256=sha(whole))
    assert first.status_code == 503 and first.json()["error"] == "database_unavailable", first.text
    again = finalize(b, sid, 2, sha256=sha(whole))
    assert again.status_code == 200, again.text
    same = finalize(a, sid, 2, sha256=sha(whole))  # and idempotent from then on, on either instance
    assert same.status_code == 200 and {k: same.json()[k] for k in ("key", "url")} == {k: again.json()[k] for k in
                                                                                   ("key", "url")}
    r = requests.get(again.json()["url"] if again.json()["url"].startswith("http") else b.url + again.json()["url"],
                     headers=b.headers(), timeout=60)
    assert r.status_code == 200 and sha(r.content) == sha(whole)
