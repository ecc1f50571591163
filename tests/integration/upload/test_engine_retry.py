"""The engine's retry loop with an injected fake clock and sleeper, against the real server's fault hook:
the schedule, jitter bounds and Retry-After as the engine really applies them, in milliseconds."""

from __future__ import annotations

import random
import time

from tray.api.client import ApiClient
from tray.upload.backoff import FakeClock, FakeSleeper, Sleeper
from tray.upload.engine import UploadEngine
from tray.upload.events import UploadProgress
from tray.upload.state import UploadState as S

from tests.server_kinds import server_each_kind  # noqa: F401 - the `server` fixture, of each kind

from .helpers import MIB, TokenHolder, write_random


def engine_with(server, journal, sleeper, clock, events=None):
    tokens = TokenHolder(server.token)
    return UploadEngine(lambda: ApiClient(server.api_url, tokens), journal, clock=clock, sleeper=sleeper,
                        rng=random.Random(9), on_event=(events.append if events is not None else None))


def test_backoff_schedule_and_jitter_as_applied(server, journal, tmp_path):
    path = tmp_path / "a.webm"
    sha = write_random(path, 1000)
    server.fault("/api/v1/videos/init", count=7, status=503)
    clock = FakeClock(0.0)
    sleeper = FakeSleeper(clock)
    engine = engine_with(server, journal, sleeper, clock)
    try:
        url = engine.upload_file(path).wait(30)
    finally:
        engine.stop(5)
    assert server.file_sha256(url) == sha
    assert len(sleeper.sleeps) == 7
    for got, base in zip(sleeper.sleeps, [1, 2, 4, 8, 16, 16, 16]):
        assert 0.8 * base <= got <= 1.2 * base
    assert clock() == sum(sleeper.sleeps)  # 16+ "seconds" of retries, in milliseconds of real time


def test_retry_after_is_honoured(server, journal, tmp_path):
    path = tmp_path / "a.webm"
    write_random(path, 1000)
    server.fault("/api/v1/videos/chunk", count=1, status=429, retry_after=7)
    server.fault("/api/v1/videos/finalize", count=1, status=503, retry_after=42)
    sleeper = FakeSleeper(FakeClock(0.0))
    engine = engine_with(server, journal, sleeper, sleeper.clock)
    try:
        engine.upload_file(path).wait(30)
    finally:
        engine.stop(5)
    assert sleeper.sleeps == [7.0, 42.0]


def test_progress_events_are_rate_limited_by_the_injected_clock(server, journal, tmp_path):
    path = tmp_path / "rec.webm"
    write_random(path, 3 * MIB)
    clock = FakeClock(0.0)
    events: list = []
    engine = engine_with(server, journal, FakeSleeper(clock), clock, events)
    try:
        up = engine.start_recording_upload(path)
        for n in range(1, 30):
            up.durable(n * 100_000)
        first_window = [e for e in events if isinstance(e, UploadProgress)]
        clock.advance(0.25)
        up.durable(3_000_000)
        up.durable(3_100_000)
        second = [e for e in events if isinstance(e, UploadProgress)][len(first_window):]
        up.finished(3 * MIB, 1.0, {})
        up.wait(30)
    finally:
        engine.stop(5)
    assert len(first_window) == 1  # 29 durable notices and the worker's state changes: one event in 250 ms
    assert len(second) == 1 and second[0].snapshot.bytes_total == 3_000_000
    final = [e for e in events if isinstance(e, UploadProgress)][-1].snapshot
    assert final.state is S.COMPLETED and final.percent == 100


def test_stop_interrupts_a_long_backoff(server, journal, tmp_path):
    path = tmp_path / "a.webm"
    write_random(path, 1000)
    server.fault("/api/v1/videos/init", count=100, status=503, retry_after=300)
    engine = engine_with(server, journal, Sleeper(scale=1.0), time.monotonic)
    up = engine.upload_file(path)
    deadline = time.monotonic() + 10
    while server.faults_fired < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.stop(5)  # woken out of a 300 s Retry-After wait
    assert not up.done and journal.get_session(up.id).state == S.INITIALIZING.value
