"""Cutting a (possibly still growing) local file into upload parts.

Parts are consecutive byte ranges ``[offset, offset + length)`` of the local file. A new part is cut each time at
least ``part_size`` (≥ 5 MiB, the S3 multipart minimum) durable bytes lie past the previous cut; at the end the
remainder becomes the last, possibly smaller, part. A file smaller than one part becomes a single part 0.

Part 0 holds the WebM header the muxer rewrites when it closes the file, so its bytes (and sha256) are only final
after ``finished``: the engine sends it last and hashes every part from disk when it sends it. (A fragmented MP4 is
never rewritten, but it is cut and sent the same way: the cutter does not look at the container.)

Streaming (:meth:`PartCutter.stream`): a server that accepts smaller parts says so in its init answer
(``minPartSize``, an extension). Then part 0 is only the first ``HEAD_PART`` bytes (the muxer's rewrites at close
all lie below offset 4096), and every later part is cut as soon as ``floor`` bytes are durable past the previous
cut (about one muxer flush, ~1 s of video), at most ``part_size`` each. What is left to send at stop is then part 0
(64 KiB) and the last second, whatever the recording's length, instead of a 5 MiB part 0 and up to 5 MiB of tail.
Past half the server's ``maxParts`` the cutter falls back to ``part_size`` parts so a long recording never runs
out of part numbers.

Threading: a cutter belongs to one upload worker.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tray.upload.journal import PartRecord

MIN_PART_SIZE = 5 * 1024 * 1024
PART_SIZE = MIN_PART_SIZE
HEAD_PART = 64 * 1024  # part 0 when streaming: holds every byte the muxer rewrites at close (all below 4096)
STREAM_FLOOR = 64 * 1024  # smallest part cut while streaming, whatever smaller size the server would accept
DEFAULT_MAX_PARTS = 10_000  # the seed's (S3's) limit, when the server does not say


class LocalFileError(RuntimeError):
    """The local file is missing, unreadable, empty, or shorter than what was already cut from it."""


class PartCutter:
    def __init__(self, path: str | Path, part_size: int = PART_SIZE, *, parts: list[PartRecord] | None = None,
                 min_part_size: int = MIN_PART_SIZE):
        if part_size < min_part_size:
            raise ValueError(f"part size {part_size} is below the {min_part_size}-byte minimum")
        self.path = Path(path)
        self.part_size = part_size
        parts = sorted(parts or [], key=lambda p: p.index)
        for i, p in enumerate(parts):
            expected = parts[i - 1].end if i else 0
            if p.index != i or p.offset != expected or p.length <= 0:
                raise ValueError(f"journal parts are not contiguous at index {p.index}")
        self.next_index = len(parts)
        self.next_offset = parts[-1].end if parts else 0
        self._floor: int | None = None  # streaming: smallest part to cut; None = whole part_size parts only
        self._stream_until = 0  # streaming stops at this part index (half the server's part limit)

    @property
    def streaming(self) -> bool:
        return self._floor is not None and self.next_index < self._stream_until

    def stream(self, min_part_size: int, max_parts: int | None = None) -> bool:
        """Cut small parts from now on, for a server whose non-last parts may be ``min_part_size`` bytes;
        False (and nothing changes) when that is no smaller than ``part_size``."""
        floor = max(int(min_part_size), STREAM_FLOOR)
        if floor >= self.part_size:
            return False
        self._floor = floor
        self._stream_until = max(1, int(max_parts or DEFAULT_MAX_PARTS) // 2)
        return True

    def cut(self, durable: int) -> list[PartRecord]:
        """Parts that became complete now that bytes ``[0, durable)`` are durable."""
        if durable < self.next_offset:
            raise LocalFileError(f"{self.path}: only {durable} bytes are durable but {self.next_offset} were "
                                 f"already cut; the file shrank")
        new: list[PartRecord] = []
        while True:
            pending = durable - self.next_offset
            if self.streaming:
                assert self._floor is not None
                if self.next_index == 0:
                    length = max(HEAD_PART, self._floor) if pending >= max(HEAD_PART, self._floor) else 0
                else:
                    length = min(pending, self.part_size) if pending >= self._floor else 0
            else:
                length = self.part_size if pending >= self.part_size else 0
            if not length:
                return new
            new.append(PartRecord(self.next_index, self.next_offset, length))
            self.next_index += 1
            self.next_offset += length

    def finish(self, total: int) -> list[PartRecord]:
        """The remaining parts once the file is complete at ``total`` bytes (the last one may be short)."""
        if total <= 0:
            raise LocalFileError(f"{self.path}: the file is empty, there is nothing to upload")
        new = self.cut(total)
        if total > self.next_offset:
            new.append(PartRecord(self.next_index, self.next_offset, total - self.next_offset))
            self.next_index += 1
            self.next_offset = total
        return new

    def read(self, part: PartRecord) -> tuple[bytes, str]:
        """The part's bytes as they are on disk now, and their sha256 (lowercase hex)."""
        return read_range(self.path, part.offset, part.length)


def read_range(path: Path, offset: int, length: int) -> tuple[bytes, str]:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < offset + length:
                raise LocalFileError(f"{path}: the file shrank to {size} bytes while bytes up to "
                                     f"{offset + length} were still to be uploaded")
            f.seek(offset)
            data = f.read(length)
    except FileNotFoundError as exc:
        raise LocalFileError(f"{path}: the file disappeared before it was uploaded") from exc
    except PermissionError as exc:
        raise LocalFileError(f"{path}: permission denied reading the file") from exc
    except IsADirectoryError as exc:
        raise LocalFileError(f"{path}: is a directory") from exc
    if len(data) != length:
        raise LocalFileError(f"{path}: short read at offset {offset} ({len(data)} of {length} bytes)")
    return data, hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            buf = f.read(block)
            if not buf:
                break
            h.update(buf)
    return h.hexdigest()
