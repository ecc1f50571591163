"""What the share pages need from a stored video, with PyAV: its duration and size, a poster (the first frame that is
not blank, as JPEG), and a frame-accurate trimmed copy (trim_cut.py: stream copy after the first keyframe, the edge
before it encoded again).

The video is read where it is stored (local file, hard-linked parts, or S3) through `StoredObjectReader`, a
seekable file object over ``storage.iter_range`` -- nothing is copied first. Every function here is blocking and is
called from worker threads; none keeps state between calls.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .multipart_stream import SpooledFile
from .private_files import create_private_file

log = logging.getLogger(__name__)

READ_BUFFER = 1024 * 1024  # S3: one GET per MiB, not one per PyAV read (32 KiB)
POSTER_SCAN_SECONDS = 10.0  # look this far into the video for a frame that is not blank
POSTER_MAX_FRAMES = 300
POSTER_MAX_WIDTH = 1280
BLANK_LUMA_STDDEV = 2.0  # a frame whose luma varies less than this is "blank" (black, white, one flat colour)
POSTER_QUALITY = 85


class MediaError(Exception):
    """The stored bytes are not a video PyAV can read (or cut)."""


@dataclass(frozen=True)
class VideoInfo:
    duration: float | None  # seconds, from the packets (a live recording's header often says nothing or 0)
    width: int | None
    height: int | None


@dataclass(frozen=True)
class TrimResult:
    start: float  # source time of the first frame kept: the requested start, to a frame ...
    end: float  # ... and the end of the last packet kept (the requested end, to a frame)
    duration: float
    method: str = "copy"  # "copy" (start on a keyframe), "edge" (re-encoded to the next keyframe), "whole"
    reencoded_until: float | None = None  # source time up to which frames were encoded again
    reason: str | None = None  # why the whole range was re-encoded


class StoredObjectReader(io.RawIOBase):
    """A read-only, seekable view of ``size`` bytes served by ``read_range(start, end) -> iterator of bytes``."""

    def __init__(self, read_range: Callable[[int, int], Iterator[bytes]], size: int) -> None:
        self._read_range = read_range
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        end = min(self._size, self._pos + len(buffer))
        if end <= self._pos:
            return 0
        n = 0
        view = memoryview(buffer)
        for block in self._read_range(self._pos, end):
            view[n:n + len(block)] = block
            n += len(block)
        self._pos += n
        return n


def open_stored(read_range: Callable[[int, int], Iterator[bytes]], size: int) -> io.BufferedReader:
    return io.BufferedReader(StoredObjectReader(read_range, size), buffer_size=READ_BUFFER)


def _open(source):
    import av

    try:
        return av.open(source, mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(f"not a readable video ({type(exc).__name__}: {exc})") from None


def probe(source) -> VideoInfo:
    """Duration (the end of the last packet of any stream, from the packets: the recorder's live WebM has no
    duration in its header and its fragmented MP4's moov says 0) and the video's width and height."""
    import av

    with _open(source) as container:
        video = next((s for s in container.streams if s.type == "video"), None)
        width = video.codec_context.width if video is not None else None
        height = video.codec_context.height if video is not None else None
        first: float | None = None
        last = 0.0
        try:
            for packet in container.demux():
                if packet.pts is None or packet.size == 0:
                    continue
                t0 = float(packet.pts * packet.time_base)
                t1 = t0 + float((packet.duration or 0) * packet.time_base)
                first = t0 if first is None else min(first, t0)
                last = max(last, t1)
        except av.FFmpegError as exc:  # a damaged tail: what was read so far counts
            log.warning("probe: stopped reading packets: %s", exc)
        duration = (last - (first or 0.0)) if first is not None else None
        if not duration and container.duration:
            duration = container.duration / 1_000_000
    return VideoInfo(duration=duration, width=width or None, height=height or None)


def _is_blank(frame) -> bool:
    import numpy as np

    luma = frame.to_ndarray(format="gray")
    return float(np.std(luma)) < BLANK_LUMA_STDDEV


def poster_jpeg(source) -> bytes:
    """JPEG of the first frame that is not blank within the first seconds (else the first frame)."""
    import av

    first = None
    chosen = None
    with _open(source) as container:
        video = next((s for s in container.streams if s.type == "video"), None)
        if video is None:
            raise MediaError("no video stream")
        video.thread_type = "AUTO"
        try:
            for n, frame in enumerate(container.decode(video)):
                if first is None:
                    first = frame
                if not _is_blank(frame):
                    chosen = frame
                    break
                if n >= POSTER_MAX_FRAMES or (frame.time or 0.0) > POSTER_SCAN_SECONDS:
                    break
        except av.FFmpegError as exc:
            if first is None:
                raise MediaError(f"no frame could be decoded ({exc})") from None
        frame = chosen or first
        if frame is None:
            raise MediaError("the video has no frames")
        image = frame.to_image()
    if image.width > POSTER_MAX_WIDTH:
        image = image.resize((POSTER_MAX_WIDTH, round(image.height * POSTER_MAX_WIDTH / image.width)))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=POSTER_QUALITY)
    return out.getvalue()


def trim(source, dest: Path, start: float, end: float, container_format: str) -> TrimResult:
    """Cut [start, end) into ``dest`` frame-accurately: the frames from ``start`` to the next keyframe are encoded
    again with the same codec and the rest is copied (trim_cut.py says why the splice is sound and when the whole
    range is re-encoded instead); the trimmed video starts at 0 with the frame at ``start``."""
    from .trim_cut import CutError, cut

    with _open(source) as src:
        try:
            result = cut(src, dest, start, end, container_format)
        except CutError as exc:
            raise MediaError(str(exc)) from None
    return TrimResult(start=result.start, end=result.end, duration=result.duration, method=result.method,
                      reencoded_until=result.reencoded_until, reason=result.reason)


def spool_bytes(spool_dir: Path, data: bytes, *, want_md5: bool) -> SpooledFile:
    """``data`` as a spool file the storage can take (`put_object`)."""
    path = Path(spool_dir) / f"media-{secrets.token_hex(8)}.tmp"
    with create_private_file(path) as fh:
        fh.write(data)
    return SpooledFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                       md5=hashlib.md5(data).digest() if want_md5 else b"", filename=None, content_type=None,
                       head=data[:16])


def spool_file(path: Path, *, want_md5: bool) -> SpooledFile:
    """An existing file in the spool directory as a `SpooledFile` (hashes read once)."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    head = b""
    with open(path, "rb") as fh:
        while block := fh.read(READ_BUFFER):
            if not head:
                head = block[:16]
            sha.update(block)
            if want_md5:
                md5.update(block)
            size += len(block)
    return SpooledFile(path=Path(path), size=size, sha256=sha.hexdigest(), md5=md5.digest() if want_md5 else b"",
                       filename=None, content_type=None, head=head)


def new_spool_path(spool_dir: Path, suffix: str) -> Path:
    return Path(spool_dir) / f"trim-{secrets.token_hex(8)}{suffix}"


__all__ = ["MediaError", "StoredObjectReader", "TrimResult", "VideoInfo", "new_spool_path", "open_stored",
           "poster_jpeg", "probe", "spool_bytes", "spool_file", "trim"]
