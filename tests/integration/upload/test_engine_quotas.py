"""Issue 16, acceptance 3, client side: the real upload engine against the real reference server with per-user
limits on. Every 429 carries Retry-After; the engine waits that long (through an injected sleeper: a `FakeSleeper`
that moves the *server's* clock too, so a token bucket refills and a UTC day ends without real waiting) and the
upload finishes, byte-identical."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from snaplark_server.config import ServerConfig
from snaplark_server.runner import ServerThread
from snaplark_server.users import create_user
from tray.api.client import ApiClient
from tray.upload.backoff import FakeClock, FakeSleeper, Sleeper
from tray.upload.engine import UploadEngine

from .helpers import EBML_MAGIC, TokenHolder, download_sha


def write_video(path: Path, size: int, seed: int = 0) -> str:
    """A file that starts like a WebM (EBML magic) followed by random bytes; returns its sha256."""
    import hashlib

    data = EBML_MAGIC + random.Random(seed).randbytes(size - len(EBML_MAGIC))
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


class RecordingSleeper(Sleeper):
    """Real (scaled) waits, each requested delay recorded."""

    def __init__(self, scale: float) -> None:
        super().__init__(scale=scale)
        self.sleeps: list[float] = []
        self._record = threading.Lock()

    def sleep(self, seconds, wake=lambda: False):
        with self._record:
            self.sleeps.append(seconds)
        return super().sleep(seconds, wake)


@pytest.fixture
def limited_server(tmp_path):
    started: list[ServerThread] = []

    def start(clock=time.time, **limits) -> tuple[ServerThread, str]:
        config = ServerConfig(data_dir=tmp_path / "server", port=0, cleanup_interval=3600.0, **limits)
        thread = ServerThread(config, clock=clock).start()
        started.append(thread)
        return thread, create_user(thread.app.state.db, "alice")

    yield start
    for t in started:
        t.stop()


def engine_for(thread: ServerThread, token: str, journal, sleeper: Sleeper, clock) -> UploadEngine:
    tokens = TokenHolder(token)
    return UploadEngine(lambda: ApiClient(thread.api_url, tokens), journal, clock=clock, sleeper=sleeper,
                        rng=random.Random(3))


def test_rate_limited_upload_waits_retry_after_and_finishes(limited_server, journal, tmp_path):
    clock = FakeClock(1_700_000_000.0)  # the server's clock and the engine's sleeper share it
    thread, token = limited_server(clock=clock, user_requests_per_second=0.5, user_request_burst=1)
    path = tmp_path / "clip.webm"
    sha = write_video(path, 3000)
    sleeper = FakeSleeper(clock)
    engine = engine_for(thread, token, journal, sleeper, clock)
    try:
        url = engine.upload_file(path).wait(30)
    finally:
        engine.stop(5)
    assert download_sha(thread.url, url, token) == sha
    # init took the one token; chunk and finalize each waited the 2 s the server asked for
    assert sleeper.sleeps == [2.0, 2.0]


def test_session_limit_second_upload_waits_for_the_first(limited_server, journal, tmp_path):
    thread, token = limited_server(user_max_open_sessions=1)
    paths = [tmp_path / f"clip{i}.webm" for i in range(2)]
    shas = [write_video(p, 200_000, seed=i) for i, p in enumerate(paths)]
    sleeper = RecordingSleeper(scale=0.01)  # Retry-After 10 s -> 0.1 s of real waiting
    engine = engine_for(thread, token, journal, sleeper, time.monotonic)
    try:
        uploads = [engine.upload_file(p) for p in paths]
        urls = [u.wait(60) for u in uploads]
    finally:
        engine.stop(5)
    assert [download_sha(thread.url, u, token) for u in urls] == shas
    assert 10.0 in sleeper.sleeps  # one of the two was told to wait (too_many_sessions, Retry-After: 10)
    assert set(sleeper.sleeps) == {10.0}


def test_daily_byte_quota_upload_resumes_after_utc_midnight(limited_server, journal, tmp_path):
    midnight = datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp()
    clock = FakeClock(midnight - 45.0)
    thread, token = limited_server(clock=clock, user_max_bytes_per_day=150_000)
    first, second = tmp_path / "a.webm", tmp_path / "b.webm"
    write_video(first, 100_000, seed=1)
    sha = write_video(second, 100_000, seed=2)
    sleeper = FakeSleeper(clock)
    engine = engine_for(thread, token, journal, sleeper, clock)
    try:
        engine.upload_file(first).wait(30)
        assert sleeper.sleeps == []
        url = engine.upload_file(second).wait(30)  # 200,000 bytes today > 150,000: wait for tomorrow
    finally:
        engine.stop(5)
    assert download_sha(thread.url, url, token) == sha
    assert sleeper.sleeps == [45.0] and clock() == midnight
