"""Several server instances on one PostgreSQL database and one storage (issue 17): the parts of one upload sent to
either instance make one file; two finalizes racing on two instances store one object and give the same answer;
the expiry/cleanup loop runs on one instance only and cleans each expired session exactly once."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
import requests

from snaplark_server.app import cleanup_once

from .conftest import finalize, init_session, make_parts, send_chunk
from .test_expiry import FakeClock

STORAGES = ["local", "s3"]  # local: one data dir shared by both instances (shared_data_dir = true)


@pytest.fixture(params=STORAGES)
def pair(request, make_server, tmp_path):
    """Two instances, same PostgreSQL database, same storage (the same data dir or the same bucket)."""
    clock = FakeClock()
    shared = {"data_dir": tmp_path / "shared"} if request.param == "local" else {}
    a = make_server(request.param, database="postgres", clock=clock, session_idle_expiry=100.0, **shared)
    if request.param == "s3":
        shared = {"s3_bucket": a.thread.config.s3_bucket}
    b = make_server(request.param, database="postgres", clock=clock, session_idle_expiry=100.0, **shared)
    return a, b, clock


def _download(s, url: str) -> bytes:
    r = requests.get(url if url.startswith("http") else s.url + url, headers=s.headers(), timeout=60)
    assert r.status_code == 200, r.text
    return r.content


def test_parts_sent_alternately_to_two_instances_make_one_identical_file(pair):
    a, b = pair[:2]
    part = a.thread.config.min_part_size
    parts = make_parts([part, part, part, part, 1000], seed=7)
    sid = init_session(a)
    for i, data in enumerate(parts):
        r = send_chunk((a, b)[i % 2], sid, i, data)
        assert r.status_code == 200, r.text
    status = requests.get(f"{b.api_url}/videos/{sid}/status", headers=b.headers(), timeout=10).json()
    assert [p["chunkIndex"] for p in status["parts"]] == list(range(5))
    whole = b"".join(parts)
    r = finalize(b, sid, 5, sha256=hashlib.sha256(whole).hexdigest())
    assert r.status_code == 200, r.text
    for s in (a, b):  # either instance serves the file, byte for byte
        assert hashlib.sha256(_download(s, r.json()["url"])).hexdigest() == hashlib.sha256(whole).hexdigest()


def _waiting_advisory_locks(db) -> int:
    return db.query_one("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")[0]


def test_two_finalizes_racing_on_two_instances_store_one_object_and_answer_alike(pair):
    """Instance A's finalize is held inside the storage's complete(); B's finalize of the same session must wait
    for A's session lock in PostgreSQL (seen in pg_locks), then answer what A stored."""
    a, b = pair[:2]
    part = a.thread.config.min_part_size
    parts = make_parts([part, 500], seed=3)
    sid = init_session(a)
    for i, data in enumerate(parts):
        assert send_chunk(a, sid, i, data).status_code == 200
    storage = a.thread.app.state.storage
    entered, release = threading.Event(), threading.Event()
    real_complete = storage.complete
    calls = []

    def held_complete(*args, **kwargs):
        calls.append("a")
        entered.set()
        assert release.wait(30)
        return real_complete(*args, **kwargs)

    storage.complete = held_complete
    real_b = b.thread.app.state.storage.complete
    b.thread.app.state.storage.complete = lambda *args, **kw: (calls.append("b"), real_b(*args, **kw))[1]
    answers = {}
    ta = threading.Thread(target=lambda: answers.__setitem__("a", finalize(a, sid, 2)))
    ta.start()
    assert entered.wait(30)
    tb = threading.Thread(target=lambda: answers.__setitem__("b", finalize(b, sid, 2)))
    tb.start()
    deadline = time.monotonic() + 30
    while _waiting_advisory_locks(a.db) < 1:  # B waits for the session lock A holds
        assert time.monotonic() < deadline, "B's finalize did not wait for A's session lock"
        time.sleep(0.02)
    release.set()
    ta.join(60)
    tb.join(60)
    assert answers["a"].status_code == 200 and answers["b"].status_code == 200, (answers["a"].text, answers["b"].text)
    ja, jb = answers["a"].json(), answers["b"].json()
    assert (ja["key"], ja["url"]) == (jb["key"], jb["url"])
    assert calls == ["a"]  # the object was assembled once
    rows = a.db.query("SELECT object_key, size FROM objects WHERE user_id = (SELECT id FROM users WHERE name = ?)",
                      ("alice",))
    assert [(r["object_key"], r["size"]) for r in rows] == [(ja["key"], part + 500)]


def sessions_and_aborts(a, b, n: int) -> tuple[list[str], list[str]]:
    """``n`` sessions opened and given a part on alternate instances; the list each storage abort of either
    instance appends the session id to."""
    sessions = [init_session((a, b)[i % 2]) for i in range(n)]
    for i, sid in enumerate(sessions):
        assert send_chunk((b, a)[i % 2], sid, 0, b"x" * 100).status_code == 200
    aborted: list[str] = []
    for s in (a, b):
        store = s.thread.app.state.storage
        real_abort = store.abort
        store.abort = lambda sid, *rest, _real=real_abort: (aborted.append(sid), _real(sid, *rest))[1]
    return sessions, aborted


def test_cleanup_with_two_instances_cleans_each_expired_session_exactly_once(pair):
    a, b, clock = pair
    sessions, aborted = sessions_and_aborts(a, b, 6)
    clock.t += 101  # every session is now idle past the expiry
    results = {}
    go = threading.Barrier(2)

    def run(name, s):
        go.wait(10)
        results[name] = cleanup_once(s.service, s.db)

    threads = [threading.Thread(target=run, args=(n, s)) for n, s in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results.values(), key=str) == [6, None]  # the leader cleaned all six, the other nothing
    assert sorted(aborted) == sorted(sessions)  # each exactly once
    assert a.db.query_one("SELECT COUNT(*) FROM sessions")[0] == 0
    leader, other = (a, b) if results["a"] == 6 else (b, a)
    assert cleanup_once(other.service, other.db) is None  # still not the leader while the leader lives
    leader.thread.stop()  # its leader connection closes: the other instance takes over
    sid = init_session(other)
    clock.t += 101
    assert cleanup_once(other.service, other.db) == 1 and aborted[-1] == sid


def test_object_expiry_runs_on_the_leader_only(pair):
    """Expired uploads (retention.py) are deleted by the cleanup leader alone, like expired sessions."""
    from snaplark_server.retention import expire_objects_once

    from .test_object_expiry import upload_png

    a, b, clock = pair
    shots = [upload_png((a, b)[i % 2], expires_in=60).json() for i in range(4)]
    deleted: list[str] = []
    for s in (a, b):
        shares = s.thread.app.state.shares
        real = shares.storage.delete_object
        shares.storage.delete_object = lambda key, _real=real: (deleted.append(key), _real(key))[1]
    clock.t += 61
    results = {n: expire_objects_once(s.thread.app.state.shares, s.db) for n, s in (("a", a), ("b", b))}
    assert sorted(results.values(), key=str) == [4, None]  # the leader expired all four, the other asked nothing
    assert sorted(deleted) == sorted(shot["url"].split("/s/")[1].join(["screenshots/", ""]) for shot in shots)
    for shot in shots:
        assert requests.get(shot["url"], timeout=30).status_code == 410


def test_an_objects_lock_holds_across_instances(pair):
    """While instance A holds a screenshot's lock (as its poster job or a trim would), its owner's delete sent to
    instance B waits for it (seen waiting in pg_locks) and then completes."""
    from .test_screenshots import png_bytes, upload

    a, b = pair[:2]
    r = upload(a, png_bytes())
    assert r.status_code == 200, r.text
    object_id = r.json()["url"].rsplit("/", 1)[1].split(".")[0]
    answer = {}
    with a.thread.app.state.shares._lock(object_id):
        deleting = threading.Thread(target=lambda: answer.setdefault("r", requests.delete(
            f"{b.api_url}/objects/{object_id}", headers=b.headers(), timeout=60)))
        deleting.start()
        deadline = time.monotonic() + 30
        while _waiting_advisory_locks(a.db) < 1:
            assert time.monotonic() < deadline and deleting.is_alive(), "B's delete did not wait for A's lock"
            time.sleep(0.02)
        assert "r" not in answer
    deleting.join(60)
    assert answer["r"].status_code == 200, answer["r"].text
    assert requests.get(r.json()["url"], timeout=10).status_code == 410


def test_a_one_connection_pool_serves_concurrent_sessions(make_server):
    """A thread holding a session's lock runs its queries on the lock's own connection, so it never waits for a
    second one: with a pool of one connection, concurrent sessions all get through (slower), none deadlocks."""
    s = make_server("local", database="postgres", database_pool_size=1, database_timeout=30.0)
    part = s.thread.config.min_part_size
    sessions = [init_session(s) for _ in range(5)]
    results = []

    def upload(k: int, sid: str) -> None:
        parts = make_parts([part, part, 700], seed=k)
        results.extend(send_chunk(s, sid, i, data).status_code for i, data in enumerate(parts))
        results.append(finalize(s, sid, 3).status_code)

    threads = [threading.Thread(target=upload, args=(k, sid)) for k, sid in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [200] * 20
