"""How the recorder tells the upload engine which bytes of the recording file it may send.

The local recording file is the spool (DESIGN.md "Recording -> upload"). The recorder owns the file; a sink only
reads it. The upload engine's ``RecordingUpload`` implements ``RecordingSink``.

Call order, all from the recorder's encoder thread (a sink must not block for long: hand work to its own thread):
  ``durable(n)`` zero or more times, ``n`` strictly increasing;
  then, if the recording was aborted (disk full, display lost, encoder error), ``failed(reason)`` once;
  then ``finished(total_bytes, duration, metadata)`` exactly once: the file is closed and will not change again.
If the recording ends before its first frame (stopped during the countdown, or the very first write failed),
only ``failed(reason)`` is called, the file is removed, and there is nothing to upload.

Byte stability: bytes [0, n) reported by ``durable(n)`` are flushed and fsynced. The WebM muxer rewrites a few
hundred bytes near offset 40 (segment size, duration, seek head) when it closes, and nothing else; the fragmented
MP4 muxer rewrites nothing (``tray/capture/encoder.py``). So bytes at offsets >= 4096 never change once reported
durable; upload part 0 only after ``finished``.

``metadata`` is the seed's init metadata, known before the first byte (``Recorder.prepare()`` returns it):
``{"filename", "timestamp" (ms since epoch), "fps", "codec": "vp9" | "h264", "bitrate", "resolution": "WxH"}``
(the filename's extension, ``.webm`` or ``.mp4``, names the container).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

#: Offsets at or past this are never rewritten after being reported durable.
STABLE_FROM_OFFSET = 4096


@runtime_checkable
class RecordingSink(Protocol):
    def durable(self, nbytes: int) -> None: ...
    def finished(self, total_bytes: int, duration: float, metadata: dict) -> None: ...
    def failed(self, reason: str) -> None: ...


class NullSink:
    """Keeps the recording local (``snaplark record --no-upload``); remembers the last notices for the caller."""

    def __init__(self) -> None:
        self.durable_bytes = 0
        self.total_bytes: int | None = None
        self.duration: float | None = None
        self.metadata: dict | None = None
        self.failure: str | None = None

    def durable(self, nbytes: int) -> None:
        self.durable_bytes = nbytes

    def finished(self, total_bytes: int, duration: float, metadata: dict) -> None:
        self.total_bytes, self.duration, self.metadata = total_bytes, duration, dict(metadata)

    def failed(self, reason: str) -> None:
        self.failure = reason
