"""Holding Snaplark's own notifications back while a full-screen recording runs (they would be in the video).

While held, :meth:`NotificationHold.offer` keeps a "show it" callable instead of letting the caller run it; the tray
icon shows the recording meanwhile. :meth:`release` ends the hold and returns what was kept, oldest first, for the
caller to run. A keyed offer replaces the one held under the same key (the newest upload progress supersedes the
older ones; the newest state of an upload is what the user needs to see); unkeyed offers (error messages) are all
kept, up to ``limit`` (the oldest are dropped beyond it, with a log line).

Threading: ``offer`` from any thread (upload workers, the Tk thread); ``hold``/``release`` from the Tk thread.
A lock guards the state; the kept callables are run by the caller, never under the lock.
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable, Hashable

log = logging.getLogger(__name__)


class NotificationHold:
    def __init__(self, limit: int = 20):
        self._lock = threading.Lock()
        self._held = False
        self._keyed: dict[Hashable, tuple[int, Callable[[], Any]]] = {}
        self._unkeyed: list[tuple[int, Callable[[], Any]]] = []
        self._seq = itertools.count()
        self._limit = limit

    @property
    def held(self) -> bool:
        return self._held

    def hold(self) -> None:
        with self._lock:
            self._held = True

    def offer(self, key: Hashable | None, show: Callable[[], Any]) -> bool:
        """Keep ``show`` while held (True: the caller must not run it); False when not held (run it now)."""
        with self._lock:
            if not self._held:
                return False
            entry = (next(self._seq), show)
            if key is None:
                self._unkeyed.append(entry)
                if len(self._unkeyed) > self._limit:
                    del self._unkeyed[0]
                    log.info("held notifications: more than %d messages; the oldest was dropped", self._limit)
            else:
                self._keyed.pop(key, None)  # re-inserted: a newer offer sorts after the ones it overtook
                self._keyed[key] = entry
            return True

    def release(self) -> list[Callable[[], Any]]:
        """End the hold; the kept callables, oldest first (the caller runs them)."""
        with self._lock:
            self._held = False
            entries = sorted(list(self._keyed.values()) + self._unkeyed, key=lambda e: e[0])
            self._keyed.clear()
            self._unkeyed.clear()
        return [show for _, show in entries]
