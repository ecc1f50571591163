"""Free-space reserve of the data directory (issue 16): refuse writes with ``503 storage_unavailable`` +
``Retry-After`` while the disk still has room, instead of failing half-way (a 500 from SQLite's "database or disk
is full", a part cut short).

Every writing endpoint (``/videos/init``, ``/videos/chunk``, ``/videos/finalize``, ``/screenshots/upload``) asks
`DiskReserve.check` before it reads the body, with the body's declared size, and once more after a part or image
was spooled. ``min_free_bytes`` (config) is the reserve: what must stay free after the write. The data dir holds
the database and the spool with either storage backend, so it is the one measured. The free-space function is
injected (tests fake a full disk); by default it is what an unprivileged process may still use (``f_bavail``).

Threading: `check` is called from the event loop and from worker threads; it keeps no state.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Callable

from .errors import ApiError

log = logging.getLogger(__name__)

DISK_RETRY_AFTER = 60
LOG_INTERVAL = 10.0  # a refusal is logged at most once per this many seconds

FreeSpace = Callable[[Path], int]


def available_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on the file system of ``path``."""
    return shutil.disk_usage(path).free


def storage_full(detail: str = "") -> ApiError:
    return ApiError(503, "storage_unavailable",
                    "server storage is (nearly) full, retry later" + (f" ({detail})" if detail else ""),
                    headers={"Retry-After": str(DISK_RETRY_AFTER)}, retryAfter=DISK_RETRY_AFTER)


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL), however it is wrapped."""
    if not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL if code is not None else "disk is full" in str(exc)


class DiskReserve:
    def __init__(self, path: Path, reserve: int, free_space: FreeSpace | None = None) -> None:
        self.path = Path(path)
        self.reserve = reserve
        self._free_space = free_space or available_bytes
        self._logged_at = float("-inf")

    def free(self) -> int | None:
        """Free bytes now; None when they cannot be measured."""
        try:
            return int(self._free_space(self.path))
        except OSError as exc:
            log.warning("cannot measure the free space of %s: %s", self.path, exc)
            return None

    def check(self, incoming: int = 0) -> None:
        """503 ``storage_unavailable`` unless ``incoming`` more bytes leave at least the reserve free."""
        free = self.free()
        if free is None:
            return
        if free - max(0, incoming) < self.reserve:
            now = time.monotonic()
            if now - self._logged_at >= LOG_INTERVAL:  # a benign race may log twice; a full disk must not flood
                self._logged_at = now
                log.warning("refusing writes: %d bytes free in %s, reserve %d (min_free_bytes)",
                            free, self.path, self.reserve)
            raise storage_full()
