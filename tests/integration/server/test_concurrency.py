"""Concurrent sessions from threads: every file sha256-identical and the database consistent afterwards."""

from __future__ import annotations

import hashlib
import threading

import pytest
import requests

from .conftest import EBML_MAGIC, FIVE_MIB, SEED_INIT


def part_bytes(session: int, index: int, size: int) -> bytes:
    block = hashlib.sha256(f"s{session}-p{index}".encode()).digest() * 1024  # 32 KiB pattern
    data = (block * (size // len(block) + 1))[:size]
    return (EBML_MAGIC + data)[:size] if index == 0 else data  # part 0: a WebM's first bytes


def run_sessions(s, n_sessions: int, sizes: list[int]) -> dict[str, tuple[str, str]]:
    results: dict[str, tuple[str, str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(n_sessions, timeout=60)

    def one(k: int) -> None:
        try:
            http = requests.Session()
            http.headers.update(s.headers())
            sid = http.post(f"{s.api_url}/videos/init", json=SEED_INIT, timeout=30).json()["sessionId"]
            start.wait()
            whole = hashlib.sha256()
            # desktop order: parts 1..n-1 while recording, part 0 last
            order = list(range(1, len(sizes))) + [0]
            for i in order:
                data = part_bytes(k, i, sizes[i])
                r = http.post(f"{s.api_url}/videos/chunk", timeout=120,
                              data={"sessionId": sid, "chunkIndex": str(i), "sha256": hashlib.sha256(data).hexdigest()},
                              files={"chunk": (f"chunk_{i}.webm", data, "video/webm")})
                assert r.status_code == 200, r.text
            for i in range(len(sizes)):
                whole.update(part_bytes(k, i, sizes[i]))
            r = http.post(f"{s.api_url}/videos/finalize", timeout=300, json={
                "sessionId": sid, "totalChunks": len(sizes), "uploadedChunks": list(range(len(sizes))),
                "duration": 1.0, "metadata": {}, "sha256": whole.hexdigest()})
            assert r.status_code == 200, r.text
            results[sid] = (r.json()["url"], whole.hexdigest())
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(n_sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]
    return results


def check_consistent(s, results: dict[str, tuple[str, str]], n_parts: int, total_size: int) -> None:
    for sid, (url, digest) in results.items():
        got = hashlib.sha256()
        with requests.get(url, stream=True, timeout=120) as r:
            assert r.status_code == 200
            for block in r.iter_content(1 << 20):
                got.update(block)
        assert got.hexdigest() == digest, sid
    db = s.db
    if s.database == "sqlite":
        assert db.query_one("PRAGMA integrity_check")[0] == "ok"
    rows = db.query("SELECT * FROM sessions")
    assert {r["id"] for r in rows} == set(results)
    assert all(r["state"] == "finalized" and r["total_chunks"] == n_parts and r["size"] == total_size for r in rows)
    counts = db.query("SELECT session_id, COUNT(*) AS n, SUM(size) AS total FROM parts GROUP BY session_id")
    assert {(c["session_id"], c["n"], c["total"]) for c in counts} == {(sid, n_parts, total_size) for sid in results}
    objs = db.query("SELECT * FROM objects WHERE kind = 'video'")
    assert len(objs) == len(results) and all(o["size"] == total_size for o in objs)
    assert {o["sha256"] for o in objs} == {d for _, d in results.values()}
    assert list((s.data_dir / "spool").iterdir()) == []
    if s.backend == "local":
        assert list((s.data_dir / "sessions").iterdir()) == []


@pytest.mark.slow
def test_twenty_sessions_six_parts_local(make_server):
    s = make_server("local")
    sizes = [FIVE_MIB] * 6
    results = run_sessions(s, 20, sizes)
    assert len(results) == 20
    check_consistent(s, results, 6, sum(sizes))


def test_twenty_sessions_s3(make_server, database):
    """Same on S3 multipart (moto keeps everything in RAM, so 2 parts each: one 5 MiB part + a short last one); on
    PostgreSQL too (more request threads than pooled connections: none may wait forever for one)."""
    s = make_server("s3", database=database)
    sizes = [FIVE_MIB, 300_000]
    results = run_sessions(s, 20, sizes)
    check_consistent(s, results, 2, sum(sizes))
