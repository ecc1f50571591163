"""One owner per upload session across processes: an OS file lock per session.

The tray app, ``snaplark record`` and ``snaplark upload --resume`` may run at the same time on one journal. A worker
holds ``<journal dir>/upload-locks/session-<id>.lock`` (``flock``/``msvcrt.locking``, exclusive, non-blocking) for
its whole life; ``resume_all`` skips sessions whose lock another process holds. The OS drops the lock when its
holder dies, even by SIGKILL, so a crashed upload is resumable at once.

Threading: a lease is acquired by one thread and released by the worker that inherits it (once).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


class SessionLease:
    def __init__(self, lock_dir: Path, session_id: int):
        self.path = Path(lock_dir) / f"session-{session_id}.lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """True if this process now owns the session; False if another holder has it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if sys.platform == "win32":
                import msvcrt

                try:
                    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
                except OSError:
                    pass
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
