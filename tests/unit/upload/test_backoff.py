import random
import threading
import time

import pytest

from tray.upload.backoff import Backoff, FakeClock, FakeSleeper, Sleeper


def test_schedule_without_jitter_then_16s_forever():
    b = Backoff(random.Random(1), jitter=0.0)
    assert [b.next_delay() for _ in range(9)] == [1, 2, 4, 8, 16, 16, 16, 16, 16]
    b.reset()
    assert b.next_delay() == 1


def test_jitter_stays_within_20_percent_and_varies():
    b = Backoff(random.Random(42))
    base = [1, 2, 4, 8, 16] + [16] * 200
    delays = [b.next_delay() for _ in base]
    for d, s in zip(delays, base):
        assert 0.8 * s <= d <= 1.2 * s
    tail = delays[5:]
    assert max(tail) > 17.5 and min(tail) < 14.5  # really jittered, both ways


def test_injected_rng_makes_it_deterministic():
    a = [Backoff(random.Random(7)).next_delay() for _ in range(3)]
    b = [Backoff(random.Random(7)).next_delay() for _ in range(3)]
    assert a == b


def test_retry_after_replaces_the_computed_delay_and_is_capped():
    b = Backoff(random.Random(0), retry_after_cap=300)
    assert b.next_delay(retry_after=3.5) == 3.5
    assert b.next_delay(retry_after=0) == 0
    assert b.next_delay(retry_after=10_000) == 300
    # Retry-After still counts as an attempt: the next computed delay is the 4th step
    assert 6.4 <= b.next_delay() <= 9.6


def test_bad_parameters():
    with pytest.raises(ValueError):
        Backoff(schedule=())
    with pytest.raises(ValueError):
        Backoff(jitter=1.5)


def test_fake_sleeper_advances_clock_without_waiting():
    clock = FakeClock(0.0)
    s = FakeSleeper(clock)
    started = time.monotonic()
    b = Backoff(random.Random(3), jitter=0.0)
    for _ in range(6):
        s.sleep(b.next_delay())
    assert clock() == 1 + 2 + 4 + 8 + 16 + 16
    assert s.sleeps == [1, 2, 4, 8, 16, 16]
    assert time.monotonic() - started < 1.0


def test_fake_sleeper_does_not_sleep_when_already_woken():
    s = FakeSleeper()
    assert s.sleep(5, lambda: True) is True
    assert s.sleeps == []


def test_real_sleeper_is_woken_early_by_notify():
    s = Sleeper(scale=1.0)
    flag = []
    t = threading.Timer(0.05, lambda: (flag.append(1), s.notify()))
    t.start()
    started = time.monotonic()
    woke = s.sleep(30.0, lambda: bool(flag))
    t.join(5)
    assert woke is True
    assert time.monotonic() - started < 10


def test_scaled_sleeper_shrinks_delays():
    s = Sleeper(scale=0.001)
    assert s.sleep(16.0) is False  # 16 ms, not woken
