"""Per-user quotas and request rate (issue 16, acceptance 3, server side): open sessions, bytes stored, bytes per
day and requests per second -> 429 with a JSON error and Retry-After; time is the server's injected clock."""

from __future__ import annotations

import io
import random
from datetime import datetime, timezone

import pytest
import requests
from snaplark_server.config import ConfigError, ServerConfig, load_config_file
from snaplark_server.runner import ServerThread

from tray.upload.backoff import FakeClock

from .conftest import (
    FIVE_MIB,
    SEED_INIT,
    finalize,
    init_session,
    make_parts,
    send_chunk,
)
from .test_screenshots import png_bytes, upload

MovableClock = FakeClock  # wall-clock seconds that only move when told (tray.upload.backoff's, thread-safe)


def noise_png(side: int = 256) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)).save(buf, "PNG")
    return buf.getvalue()


def assert_429(r: requests.Response, code: str) -> int:
    assert r.status_code == 429, (r.status_code, r.text)
    body = r.json()
    assert body["error"] == code and body["message"], body
    after = int(r.headers["Retry-After"])
    assert after >= 1 and body["retryAfter"] == after
    return after


def test_open_sessions_limit(make_server, database):
    clock = MovableClock(1_700_000_000.0)
    s = make_server("local", user_max_open_sessions=2, session_idle_expiry=600.0, clock=clock, database=database)
    first, second = init_session(s), init_session(s)
    r = requests.post(f"{s.api_url}/videos/init", json=SEED_INIT, headers=s.headers(), timeout=30)
    assert assert_429(r, "too_many_sessions") == 10
    assert "2 per user" in r.json()["message"]
    assert s.db.query_one("SELECT COUNT(*) FROM sessions")[0] == 2  # the refused init left no row ...
    assert sorted(p.name for p in (s.data_dir / "sessions").iterdir()) == sorted([first, second])  # ... nor a dir
    other = s.add_user("bob")  # the limit is per user
    init_session(s, other)
    # a finished session no longer counts
    assert send_chunk(s, first, 0, b"\x1a\x45\xdf\xa3" + b"v" * 1000).status_code == 200
    assert finalize(s, first, 1).status_code == 200
    third = init_session(s)
    r = requests.post(f"{s.api_url}/videos/init", json=SEED_INIT, headers=s.headers(), timeout=30)
    assert_429(r, "too_many_sessions")
    # nor does one idle past the expiry (not yet cleaned up)
    clock.advance(601)
    assert send_chunk(s, third, 0, b"x" * 10).status_code == 404
    init_session(s)


def test_bytes_stored_limit(make_server):
    s = make_server("local", user_max_bytes_stored=FIVE_MIB + 300_000)
    sid = init_session(s)
    p0, p1, p2 = make_parts([FIVE_MIB, 200_000, 200_000])
    assert send_chunk(s, sid, 0, p0).status_code == 200
    assert send_chunk(s, sid, 1, p1).status_code == 200
    r = send_chunk(s, sid, 2, p2)
    assert assert_429(r, "quota_exceeded") == 3600
    assert r.json()["quota"] == "bytes_stored" and r.json()["limit"] == FIVE_MIB + 300_000
    status = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10).json()
    assert [p["chunkIndex"] for p in status["parts"]] == [0, 1]  # nothing stored for the refused part
    assert not (s.data_dir / "sessions" / sid / "00002.part").exists()
    assert send_chunk(s, sid, 1, p1).status_code == 200  # re-sending a held part replaces it: no new bytes
    assert finalize(s, sid, 2).status_code == 200  # the finished video counts as stored bytes now
    assert upload(s, png_bytes()).status_code == 200  # a small one still fits
    assert_429(upload(s, noise_png()), "quota_exceeded")  # ~200 KB of noise does not
    assert s.db.query_one("SELECT COUNT(*) FROM objects WHERE kind = 'screenshot'")[0] == 1
    # at the limit, a part is refused before its body is read (the answer closes the connection)
    s.thread.config.user_max_bytes_stored = FIVE_MIB + 200_000
    r = send_chunk(s, init_session(s), 0, p0)
    assert_429(r, "quota_exceeded")
    assert r.headers.get("connection") == "close"


def test_bytes_per_day_limit_resets_at_utc_midnight_and_survives_a_restart(make_server):
    midnight = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()
    clock = MovableClock(midnight - 90.0)
    s = make_server("local", user_max_bytes_per_day=FIVE_MIB + 150_000, clock=clock)
    assert upload(s, png_bytes()).status_code == 200
    sid = init_session(s)
    p0, p1 = make_parts([FIVE_MIB, 200_000])
    assert send_chunk(s, sid, 0, p0).status_code == 200
    r = send_chunk(s, sid, 1, p1)
    assert assert_429(r, "quota_exceeded") == 90  # until 00:00 UTC
    assert r.json()["quota"] == "bytes_per_day"
    # the day's count is in the database: a restart does not reset it
    thread = s.thread
    thread.stop()
    restarted = ServerThread(thread.config, clock=clock).start()
    try:
        s.thread = restarted
        assert_429(send_chunk(s, sid, 1, p1), "quota_exceeded")
        clock.advance(90)
        assert send_chunk(s, sid, 1, p1).status_code == 200
        assert finalize(s, sid, 2).status_code == 200
    finally:
        restarted.stop()


def test_request_rate_token_bucket(make_server):
    clock = MovableClock(1_700_000_000.0)
    s = make_server("local", user_requests_per_second=2.0, user_request_burst=3, clock=clock)
    me = lambda token=None: requests.get(f"{s.api_url}/me", headers=s.headers(token), timeout=10)  # noqa: E731
    assert [me().status_code for _ in range(3)] == [200, 200, 200]
    r = me()
    assert assert_429(r, "rate_limited") == 1
    bob = s.add_user("bob")
    assert me(bob).status_code == 200  # each user has a bucket of their own
    for _ in range(5):  # refused requests take no token, and requests without a valid token are not counted
        assert me("slk_not-a-token-0123456789").status_code == 401
    clock.advance(0.5)  # one token back (2 per second)
    assert me().status_code == 200
    assert_429(me(), "rate_limited")
    # the rate is checked before a body is read: an init or a part is refused at once
    assert_429(requests.post(f"{s.api_url}/videos/init", json=SEED_INIT, headers=s.headers(), timeout=10),
               "rate_limited")
    clock.advance(10)  # the bucket refills up to its burst, no further
    assert [me().status_code for _ in range(4)] == [200, 200, 200, 429]


def test_defaults_are_generous_and_bad_values_name_the_key(tmp_path):
    cfg = ServerConfig(data_dir=tmp_path)
    assert cfg.user_max_bytes_stored == cfg.user_max_bytes_per_day == 0 and cfg.user_requests_per_second == 0
    assert cfg.user_max_open_sessions >= 100
    for key, bad in (("user_max_open_sessions", -1), ("user_max_bytes_per_day", -5),
                     ("user_requests_per_second", -0.5), ("user_request_burst", 0)):
        with pytest.raises(ConfigError, match=key):
            ServerConfig(data_dir=tmp_path, **{key: bad})
    f = tmp_path / "server.toml"
    f.write_text("user_max_bytes_per_day = 1000000\nuser_requests_per_second = 5\nuser_request_burst = 10\n")
    loaded = load_config_file(f, data_dir=tmp_path)
    assert (loaded.user_max_bytes_per_day, loaded.user_requests_per_second, loaded.user_request_burst) == \
        (1_000_000, 5.0, 10)
    f.write_text("user_max_bytes_stored = -1\n")
    with pytest.raises(ConfigError, match=r"server\.toml.*user_max_bytes_stored"):
        load_config_file(f, data_dir=tmp_path)
