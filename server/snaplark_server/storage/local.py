"""Local-disk storage: parts are fsynced and renamed into the session directory.

Finalize without a whole-file sha256 to check (the client's default) takes O(parts), not O(bytes): the parts are
hard-linked, in order, into ``<object>.parts/`` and the object is served as their concatenation -- so stop->link
time does not grow with the recording's length (DESIGN.md). With a sha256 to verify, the parts are streamed into
one final file (never whole in memory) while hashing, fsynced and renamed into place."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Iterator

from ..config import ServerConfig
from ..multipart_stream import SpooledFile
from ..private_files import DIR_MODE, create_private_file, make_private_dir
from .base import AssembledObject, StoredPart, WholeFileMismatch, clear_spool

COPY_BLOCK = 1024 * 1024
READ_BLOCK = 256 * 1024


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # e.g. Windows: directories cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LocalStorage:
    name = "local"
    wants_md5 = False  # compute Content-MD5 while spooling

    def __init__(self, config: ServerConfig) -> None:
        self.root = Path(config.data_dir)
        self.spool_dir = self.root / "spool"
        self.sessions_dir = self.root / "sessions"
        self.objects_dir = self.root / "objects"
        self.public_base_url = config.public_base_url
        self.shared_data_dir = config.shared_data_dir

    def start(self) -> None:
        for d in (self.spool_dir, self.sessions_dir, self.objects_dir):
            make_private_dir(d)
        clear_spool(self.spool_dir, self.shared_data_dir)  # bodies of requests cut short by a crash

    def _session_dir(self, session_id: str) -> Path:
        return self.sessions_dir / session_id

    def _part_path(self, session_id: str, index: int) -> Path:
        return self._session_dir(session_id) / f"{index:05d}.part"

    def _object_path(self, key: str) -> Path:
        path = (self.objects_dir / key).resolve()
        if self.objects_dir.resolve() not in path.parents:
            raise ValueError("object key escapes the storage root")
        return path

    def start_upload(self, session_id: str, key: str, content_type: str) -> str | None:
        d = self._session_dir(session_id)
        d.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        fsync_dir(self.sessions_dir)
        return None

    def store_part(self, session_id: str, key: str, upload_id: str | None, index: int, spooled: SpooledFile) -> str | None:
        dest = self._part_path(session_id, index)
        dest.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        fsync_file(spooled.path)
        os.replace(spooled.path, dest)
        fsync_dir(dest.parent)
        return None

    def list_parts(self, session_id: str, key: str, upload_id: str | None) -> dict[int, int] | None:
        d = self._session_dir(session_id)
        if not d.is_dir():
            return None
        out: dict[int, int] = {}
        for p in d.glob("*.part"):
            try:
                out[int(p.stem)] = p.stat().st_size
            except (ValueError, OSError):
                continue
        return out

    def _composite_dir(self, key: str) -> Path:
        return self._object_path(key + ".parts")

    def _composite_parts(self, key: str) -> list[tuple[Path, int]]:
        d = self._composite_dir(key)
        return [(p, p.stat().st_size) for p in sorted(d.iterdir())]

    def complete(self, session_id: str, key: str, upload_id: str | None, parts: list[StoredPart],
                 expected_sha256: str | None, content_type: str) -> AssembledObject:
        if expected_sha256 is None:
            return self._complete_by_linking(session_id, key, parts)
        final = self._object_path(key)
        final.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{secrets.token_hex(6)}.tmp")
        digest = hashlib.sha256()
        size = 0
        try:
            with create_private_file(tmp) as out:
                for part in parts:
                    with open(self._part_path(session_id, part.index), "rb") as src:
                        while block := src.read(COPY_BLOCK):
                            out.write(block)
                            digest.update(block)
                            size += len(block)
                out.flush()
                os.fsync(out.fileno())
            actual = digest.hexdigest()
            if expected_sha256 is not None and actual != expected_sha256:
                raise WholeFileMismatch(actual, parts_discarded=False)
            os.replace(tmp, final)
            fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return AssembledObject(size=size, sha256=actual)

    def _complete_by_linking(self, session_id: str, key: str, parts: list[StoredPart]) -> AssembledObject:
        target = self._composite_dir(key)
        target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        tmp.mkdir(mode=DIR_MODE)
        try:
            size = 0
            for n, part in enumerate(parts):  # hard links: the session's own parts may be discarded afterwards
                src = self._part_path(session_id, part.index)
                os.link(src, tmp / f"{n:05d}")
                size += src.stat().st_size
            fsync_dir(tmp)
            if target.exists():  # a previous finalize attempt that crashed before the database commit
                shutil.rmtree(target)
            os.replace(tmp, target)
            fsync_dir(target.parent)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return AssembledObject(size=size, sha256=None)

    def discard_parts(self, session_id: str) -> None:
        shutil.rmtree(self._session_dir(session_id), ignore_errors=True)

    def local_session_ids(self) -> list[str]:
        try:
            return [d.name for d in self.sessions_dir.iterdir() if d.is_dir()]
        except FileNotFoundError:
            return []

    def abort(self, session_id: str, key: str, upload_id: str | None) -> None:
        self.discard_parts(session_id)

    def put_object(self, key: str, spooled: SpooledFile, content_type: str) -> None:
        final = self._object_path(key)
        final.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        fsync_file(spooled.path)
        os.replace(spooled.path, final)
        fsync_dir(final.parent)
        # a trimmed video replaces a linked object (its parts): the single file is served from now on
        shutil.rmtree(self._composite_dir(key), ignore_errors=True)

    def stage_object(self, key: str, spooled: SpooledFile, content_type: str) -> object:
        fsync_file(spooled.path)  # the slow part; the commit is put_object's rename (its fsync is then quick)
        return key, spooled, content_type

    def commit_staged(self, staged: object) -> None:
        self.put_object(*staged)

    def discard_staged(self, staged: object) -> None:
        staged[1].discard()

    def delete_object(self, key: str) -> None:
        self._object_path(key).unlink(missing_ok=True)
        shutil.rmtree(self._composite_dir(key), ignore_errors=True)  # a linked object: its parts

    def object_size(self, key: str) -> int | None:
        try:
            return self._object_path(key).stat().st_size
        except OSError:
            pass
        try:
            return sum(size for _, size in self._composite_parts(key))
        except OSError:
            return None

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        path = self._object_path(key)
        if path.is_file():
            yield from _read_range(path, start, end)
            return
        offset = 0  # a linked object: walk its parts, reading the slice of each that [start, end) covers
        for part, size in self._composite_parts(key):
            lo, hi = max(start, offset), min(end, offset + size)
            if lo < hi:
                yield from _read_range(part, lo - offset, hi - offset)
            offset += size
            if offset >= end:
                break

    def public_url(self, key: str) -> str | None:
        return f"{self.public_base_url}/{key}" if self.public_base_url else None


def _read_range(path: Path, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = end - start
        while remaining > 0:
            block = fh.read(min(READ_BLOCK, remaining))
            if not block:
                break
            remaining -= len(block)
            yield block
