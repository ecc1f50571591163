"""What the share pages need from a stored video, with PyAV: its duration and size, a poster (the first frame that is
not blank, as JPEG), and a trimmed copy cut by stream copy at keyframes.

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
from fractions import Fraction
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
    start: float  # the cut actually used: the keyframe at or before the requested start ...
    end: float  # ... and the end of the last packet kept (the requested end, to a frame)
    duration: float


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
    """Copy the packets of [start, end) into ``dest`` without re-encoding. The video can only start at a keyframe,
    so the cut starts at the last keyframe at or before ``start`` (every stream is shifted by that much so the
    trimmed video starts at 0); it ends before the first video packet at or after ``end``."""
    import av

    with _open(source) as src:
        video = next((s for s in src.streams if s.type == "video"), None)
        if video is None:
            raise MediaError("no video stream")
        packets = []
        cut = None  # the time of the keyframe the cut starts at
        try:
            for packet in src.demux():
                if packet.pts is None or packet.size == 0:
                    continue
                t = float(packet.pts * packet.time_base)
                if packet.stream is video and packet.is_keyframe and t <= start + 1e-6:
                    cut = t
                    packets = [p for p in packets if float(p.pts * p.time_base) >= t - 1e-6]
                if t >= end - 1e-6:
                    if packet.stream is video:
                        break
                    continue
                packets.append(packet)
        except av.FFmpegError as exc:
            raise MediaError(f"the video could not be read to the cut ({exc})") from None
        if cut is None:
            cut = 0.0
        packets = [p for p in packets if float(p.pts * p.time_base) >= cut - 1e-6]
        if not any(p.stream is video for p in packets):
            raise MediaError("nothing of the video is left between start and end")
        options = {"movflags": "+faststart"} if container_format == "mp4" else {}
        last_end = 0.0
        with av.open(str(dest), mode="w", format=container_format, options=options) as out:
            mapping = {}
            for stream in src.streams:
                if stream.type in ("video", "audio"):
                    mapping[stream.index] = out.add_stream_from_template(stream)
            for packet in packets:
                target = mapping.get(packet.stream.index)
                if target is None:
                    continue
                shift = int(round(Fraction(cut) / packet.time_base))
                packet.pts -= shift
                if packet.dts is not None:
                    packet.dts -= shift
                if packet.pts < 0:  # audio that began a little before the keyframe
                    continue
                t_end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                last_end = max(last_end, t_end)
                packet.stream = target
                out.mux(packet)
    return TrimResult(start=round(cut, 3), end=round(cut + last_end, 3), duration=round(last_end, 3))


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
