"""Named re-entrant locks inside one process (one per upload session, created on demand, forgotten when done).

`KeyedLocks.hold(name)` is what the SQLite database's `lock()` is; the PostgreSQL database (pg.py) takes the same
in-process lock first and then an advisory lock, so threads of one process queue here without holding a database
connection while they wait.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}

    def get(self, name: str) -> threading.RLock:
        with self._guard:
            lock = self._locks.get(name)
            if lock is None:
                lock = self._locks[name] = threading.RLock()
            return lock

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self.get(name):
            yield

    def forget(self, name: str) -> None:
        with self._guard:
            self._locks.pop(name, None)
