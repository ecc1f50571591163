"""One upload's progress, as one immutable value: :class:`ProgressSnapshot`.

:meth:`RecordingUpload.progress() <tray.upload.session.RecordingUpload.progress>` takes it under the engine's lock and
:class:`~tray.upload.events.UploadProgress` carries it to the notifier, the tray icon and the CLI's progress bars.
Its ``state`` is the :class:`~tray.upload.state.UploadState` enum, so a consumer ``match``-es on the state instead of
comparing strings. The seed client's ``getProgress()`` dict (``shared/seed/cloud-upload.md``) is built only where
that shape is wanted: :meth:`ProgressSnapshot.to_seed_dict`.

Threading: a snapshot is frozen; any thread may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tray.upload.state import UploadState


@dataclass(frozen=True)
class ProgressSnapshot:
    upload_id: int | None
    kind: str  # "video" or "screenshot"
    state: UploadState
    parts_uploaded: int = 0  # parts the server acknowledged
    parts_pending: int = 0  # parts cut but not acknowledged yet
    parts_failed: int = 0  # parts the server refused, being retried
    bytes_sent: int = 0  # bytes the server acknowledged (a screenshot: all of them once COMPLETED)
    bytes_total: int = 0  # the file's size; while a recording is still written, its durable bytes so far
    rate: float = 0.0  # bytes/s over the last few seconds
    online: bool = True  # False: the engine is paused until the network is back
    session_id: str | None = None  # the server's upload session, once initialised
    url: str | None = None  # the link, once COMPLETED
    path: Path | None = None  # the local file
    finished: bool = True  # False: a recording still being written (its total still grows)
    error: str | None = None  # why it FAILED

    @property
    def percent(self) -> int:
        """0..100 by bytes; 100 once COMPLETED."""
        if self.state is UploadState.COMPLETED:
            return 100
        if self.bytes_total <= 0:
            return 0
        return max(0, min(100, self.bytes_sent * 100 // self.bytes_total))

    @property
    def recording(self) -> bool:
        """A video whose file is still being written: no percentage to show yet (the total grows, part 0 last)."""
        return self.kind == "video" and not self.finished

    @property
    def filename(self) -> str | None:
        return self.path.name if self.path is not None else None

    def to_seed_dict(self) -> dict[str, object]:
        """The seed's ``getProgress()`` shape: ``uploaded``, ``pending``, ``failed`` (part counts), ``percentage``
        (here by bytes, which the seed approximates by parts), ``isOnline``, ``hasSession``."""
        return {"uploaded": self.parts_uploaded, "pending": self.parts_pending, "failed": self.parts_failed,
                "percentage": self.percent, "isOnline": self.online, "hasSession": bool(self.session_id)}
