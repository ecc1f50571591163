"""Events the upload engine publishes (to the notifier, the tray menu, the CLI progress bar).

Handlers are called on the engine's worker threads (or the caller's thread for sink calls) and must not block;
an exception in a handler is logged and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tray.upload.state import UploadState


@dataclass(frozen=True)
class StateChanged:
    upload_id: int
    kind: str
    old: UploadState
    new: UploadState
    reason: str = ""
    url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class UploadProgress:
    """``progress`` holds the seed's keys (uploaded, pending, failed, percentage, isOnline, hasSession) plus
    bytes_sent, bytes_total, rate (bytes/s), state, session_id, url, upload_id, kind, path."""

    upload_id: int
    progress: dict[str, Any] = field(default_factory=dict)
