"""PostgreSQL unreachable (issue 17): requests get 503 database_unavailable with Retry-After (the client retries
later, as for an unavailable storage), the deep health check fails, and the server recovers by itself once the
database takes connections again -- the parts acknowledged before are all there."""

from __future__ import annotations

import time

import requests

from .conftest import init_session, send_chunk


def _block(cluster, url: str, allow: bool) -> None:
    name = url.split("?")[0].rsplit("/", 1)[1]
    cluster.admin(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {'true' if allow else 'false'}")
    if not allow:  # and cut the connections the server's pool holds
        cluster.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")


def test_database_outage_answers_503_and_recovers(make_server, postgres_cluster):
    s = make_server("local", database="postgres", database_timeout=1.0, metrics_public=True)
    sid = init_session(s)
    assert send_chunk(s, sid, 0, b"a" * 1000).status_code == 200
    url = s.thread.config.database_url
    _block(postgres_cluster, url, allow=False)
    try:
        for r in (send_chunk(s, sid, 1, b"b" * 10),
                  requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=30)):
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "database_unavailable" and r.headers["Retry-After"] == "5"
        deep = requests.get(f"{s.url}/health?deep=1", timeout=30)
        assert deep.status_code == 503 and deep.json()["checks"]["database"]["ok"] is False
    finally:
        _block(postgres_cluster, url, allow=True)
    deadline = time.monotonic() + 60  # the pool reconnects in the background (with a backoff): as a client would,
    while (r := send_chunk(s, sid, 1, b"b" * 10)).status_code == 503:  # retry after the 503
        assert time.monotonic() < deadline, "the server did not recover after the database came back"
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    status = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=30).json()
    assert [(p["chunkIndex"], p["size"]) for p in status["parts"]] == [(0, 1000), (1, 10)]
