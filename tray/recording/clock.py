"""Recording time as the user sees it: it starts when recording really starts and stops while paused."""

from __future__ import annotations

import threading
import time
from typing import Callable


class ElapsedClock:
    """Recording time that stops while paused. Any thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._started: float | None = None
        self._paused_at: float | None = None
        self._paused_total = 0.0

    def start(self) -> None:
        with self._lock:
            self._started, self._paused_at, self._paused_total = self._clock(), None, 0.0

    def pause(self) -> None:
        with self._lock:
            if self._paused_at is None:
                self._paused_at = self._clock()

    def resume(self) -> None:
        with self._lock:
            if self._paused_at is not None:
                self._paused_total += self._clock() - self._paused_at
                self._paused_at = None

    @property
    def started(self) -> bool:
        return self._started is not None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def elapsed(self) -> float:
        with self._lock:
            if self._started is None:
                return 0.0
            now = self._paused_at if self._paused_at is not None else self._clock()
            return max(0.0, now - self._started - self._paused_total)
