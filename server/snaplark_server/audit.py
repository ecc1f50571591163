"""The audit log: who uploaded, finalized or deleted what, and every user/token administration (issue 16).

One JSON object per line in ``<data dir>/audit.log`` (mode 0600, like everything in the data dir), appended by the
running server (``screenshot.upload``, ``video.init``, ``video.finalize``, ``object.delete`` ...) and by the
``snaplark-server`` admin commands (``user.add``, ``user.token``, ``user.disable`` / ``user.enable``,
``user.delete``, ``token.revoke``), possibly both at once: each line is one ``write()`` on a file opened with
``O_APPEND``, so lines from several threads and processes never interleave. Fields: ``ts`` (UTC, ms), ``event``,
``user`` (the account acted on or acting), ``requestId`` and ``client`` when a request caused it (the access log
line of that request has the same id), ``actor`` for admin commands (``cli`` and the OS user), then the event's
own fields (object id, key, size, sha256 ...). A token never appears in it.

Threading: `AuditLog.record` may be called from any thread; the file is opened on first use (the constructor does
no I/O).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .private_files import FILE_MODE, tighten
from .request_context import current_request

log = logging.getLogger(__name__)

AUDIT_FILENAME = "audit.log"
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def utc_iso_ms(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class AuditLog:
    """Appends audit events to ``<data_dir>/audit.log``; see the module docstring."""

    def __init__(self, data_dir: Path | str, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(data_dir) / AUDIT_FILENAME
        self._clock = clock
        self._lock = threading.Lock()
        self._fd: int | None = None

    def _open(self) -> int:
        with self._lock:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_CLOEXEC, FILE_MODE)
                tighten(self.path, FILE_MODE)  # an audit.log created by hand or by an older tool
            return self._fd

    def record(self, event: str, *, user: str | None = None, **fields: Any) -> None:
        """Append one event. A failure to write is logged, never raised: the upload it describes has happened."""
        entry: dict[str, Any] = {"ts": utc_iso_ms(self._clock()), "event": event}
        if user is not None:
            entry["user"] = user
        request = current_request()
        if request is not None:
            entry["requestId"] = request.request_id
            if request.client:
                entry["client"] = request.client
        entry.update((k, v) for k, v in fields.items() if v is not None)
        line = (json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=str) + "\n").encode("utf-8")
        try:
            os.write(self._open(), line)
        except OSError as exc:
            log.error("cannot write the audit log %s (%s): %s", self.path, event, exc)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def read_audit(data_dir: Path | str) -> list[dict[str, Any]]:
    """Every event of ``<data_dir>/audit.log`` (for tests and tools); [] when there is none."""
    try:
        text = (Path(data_dir) / AUDIT_FILENAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
