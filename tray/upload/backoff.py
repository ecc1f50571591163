"""Retry delays and interruptible waiting.

:class:`Backoff` yields the schedule of ``shared/API.md``: 1, 2, 4, 8, 16 s, then 16 s forever, each with ±20 %
jitter from an injected ``random.Random``; a server's Retry-After replaces the computed delay (capped).

:class:`Sleeper` waits on a :class:`threading.Condition`, so whoever changes what a waiter is waiting for (stop,
back online, new login, new bytes) calls :meth:`Sleeper.notify` and the wait ends early. ``scale`` shrinks every
delay (tests run the real schedule at 1/100 speed); :class:`FakeSleeper` never waits at all and advances a
:class:`FakeClock` instead (unit tests in milliseconds).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Callable, Sequence

SCHEDULE: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
JITTER = 0.20
RETRY_AFTER_CAP = 300.0


class Backoff:
    """Delay generator for one retry sequence. Not thread-safe: one per worker/operation."""

    def __init__(self, rng: random.Random | None = None, *, schedule: Sequence[float] = SCHEDULE,
                 jitter: float = JITTER, retry_after_cap: float = RETRY_AFTER_CAP):
        if not schedule:
            raise ValueError("backoff schedule must not be empty")
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        self._rng = rng or random.Random()
        self.schedule = tuple(float(s) for s in schedule)
        self.jitter = jitter
        self.retry_after_cap = retry_after_cap
        self.attempts = 0

    def reset(self) -> None:
        self.attempts = 0

    def base_delay(self, attempt: int) -> float:
        return self.schedule[min(attempt, len(self.schedule) - 1)]

    def next_delay(self, retry_after: float | None = None) -> float:
        """Delay before the next attempt; counts the attempt. Retry-After (seconds) wins when given."""
        attempt = self.attempts
        self.attempts += 1
        if retry_after is not None and retry_after >= 0:
            return min(float(retry_after), self.retry_after_cap)
        base = self.base_delay(attempt)
        return base * (1.0 + self._rng.uniform(-self.jitter, self.jitter))


class Sleeper:
    """Bounded, interruptible waits on one shared Condition. Thread-safe."""

    def __init__(self, scale: float = 1.0, condition: threading.Condition | None = None):
        if scale < 0:
            raise ValueError("scale must be >= 0")
        self.scale = scale
        self.condition = condition or threading.Condition()

    def sleep(self, seconds: float, wake: Callable[[], bool] = lambda: False) -> bool:
        """Wait ``seconds`` (times ``scale``) or until ``wake()`` is true. Returns True if woken early."""
        with self.condition:
            return bool(self.condition.wait_for(wake, timeout=max(0.0, seconds * self.scale)))

    def wait_event(self, timeout: float, wake: Callable[[], bool]) -> bool:
        """Wait in *real* time (never scaled, never faked) for ``wake()``: used for "new bytes" style events."""
        with self.condition:
            return bool(self.condition.wait_for(wake, timeout=timeout))

    def notify(self) -> None:
        with self.condition:
            self.condition.notify_all()


class FakeClock:
    """A monotonic clock that only moves when told. Thread-safe."""

    def __init__(self, start: float = 1000.0):
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class FakeSleeper(Sleeper):
    """Records each requested delay and advances ``clock`` by it instead of waiting."""

    def __init__(self, clock: FakeClock | None = None):
        super().__init__(scale=0.0)
        self.clock = clock or FakeClock()
        self.sleeps: list[float] = []

    def sleep(self, seconds: float, wake: Callable[[], bool] = lambda: False) -> bool:
        with self.condition:
            if wake():
                return True
            self.sleeps.append(seconds)
            self.clock.advance(seconds)
            return bool(wake())


def monotonic() -> float:
    return time.monotonic()
