"""Cutting a (possibly still growing) local file into upload parts.

Parts are consecutive byte ranges ``[offset, offset + length)`` of the local file. A new part is cut each time at
least ``part_size`` (≥ 5 MiB, the S3 multipart minimum) durable bytes lie past the previous cut; at the end the
remainder becomes the last, possibly smaller, part. A file smaller than one part becomes a single part 0.

Part 0 holds the WebM header the muxer rewrites when it closes the file, so its bytes (and sha256) are only final
after ``finished``: the engine sends it last and hashes every part from disk when it sends it.

Threading: a cutter belongs to one upload worker.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tray.upload.journal import PartRecord

MIN_PART_SIZE = 5 * 1024 * 1024
PART_SIZE = MIN_PART_SIZE


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

    def cut(self, durable: int) -> list[PartRecord]:
        """Parts that became complete now that bytes ``[0, durable)`` are durable."""
        if durable < self.next_offset:
            raise LocalFileError(f"{self.path}: only {durable} bytes are durable but {self.next_offset} were "
                                 f"already cut; the file shrank")
        new: list[PartRecord] = []
        while durable - self.next_offset >= self.part_size:
            new.append(PartRecord(self.next_index, self.next_offset, self.part_size))
            self.next_index += 1
            self.next_offset += self.part_size
        return new

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
