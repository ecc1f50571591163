"""Events the upload engine publishes (to the notifier, the tray menu, the CLI progress bar).

Handlers are called on the engine's worker threads (or the caller's thread for sink calls) and must not block;
an exception in a handler is logged and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from tray.upload.progress import ProgressSnapshot
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
    """The upload's :class:`~tray.upload.progress.ProgressSnapshot` (bytes, parts, rate, state, link...)."""

    upload_id: int
    snapshot: ProgressSnapshot
