"""The storage backend interface shared by local disk and S3 multipart storage.

Threading contract: backends are called from worker threads (never the event loop) and must be safe to use from
several threads at once for different sessions; calls for one session are serialised by the caller.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

from ..multipart_stream import SpooledFile


@dataclass(frozen=True)
class StoredPart:
    index: int
    size: int
    sha256: str
    etag: str | None


@dataclass(frozen=True)
class AssembledObject:
    size: int
    sha256: str | None  # None when the backend did not read the bytes back (S3 without a whole-file hash to check)


class StorageUnavailable(Exception):
    """The storage backend failed in a way the client should retry later (S3 unreachable/5xx, disk full)."""


class UploadLost(Exception):
    """The storage no longer has the session's upload (S3 NoSuchUpload: aborted by a bucket lifecycle rule or by
    hand): the session cannot take parts any more and is forgotten; the client starts the upload again."""


class WholeFileMismatch(Exception):
    """The assembled file's sha256 differs from the one the client sent.

    ``parts_discarded`` is True when the backend could not keep the parts (S3: the multipart upload was consumed
    by CompleteMultipartUpload); the caller must then forget every part and start a new upload.
    """

    def __init__(self, actual: str, parts_discarded: bool, new_upload_id: str | None = None) -> None:
        super().__init__(actual)
        self.actual = actual
        self.parts_discarded = parts_discarded
        self.new_upload_id = new_upload_id


SHARED_SPOOL_MIN_AGE = 3600.0  # a spool file this old in a shared data dir belongs to no running request


def clear_spool(spool_dir: Path, shared: bool) -> None:
    """Delete the request bodies a crash left in the spool dir (never acknowledged). In a data dir shared by several
    instances (``shared_data_dir``) the others may be receiving into it: only files older than an hour go."""
    cutoff = time.time() - SHARED_SPOOL_MIN_AGE if shared else float("inf")
    for leftover in spool_dir.iterdir():
        try:
            if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                leftover.unlink(missing_ok=True)
        except FileNotFoundError:  # another instance took it meanwhile
            pass


class StorageBackend(Protocol):
    name: str
    spool_dir: Path
    wants_md5: bool

    def start(self) -> None: ...

    def start_upload(self, session_id: str, key: str, content_type: str) -> str | None: ...

    def store_part(self, session_id: str, key: str, upload_id: str | None, index: int, spooled: SpooledFile) -> str | None:
        """Make the spooled part durable (consumes the spool file); returns an ETag or None."""

    def list_parts(self, session_id: str, key: str, upload_id: str | None) -> dict[int, int] | None:
        """index -> size held by the storage; None if the upload no longer exists."""

    def complete(self, session_id: str, key: str, upload_id: str | None, parts: list[StoredPart],
                 expected_sha256: str | None, content_type: str) -> AssembledObject: ...

    def discard_parts(self, session_id: str) -> None: ...

    def local_session_ids(self) -> list[str]:
        """Sessions that have local part files (a directory each); the orphans among them are discarded."""

    def abort(self, session_id: str, key: str, upload_id: str | None) -> None: ...

    def put_object(self, key: str, spooled: SpooledFile, content_type: str) -> None: ...

    def stage_object(self, key: str, spooled: SpooledFile, content_type: str) -> object:
        """The slow half of replacing the object at ``key`` (the upload to S3), done before any lock is taken;
        returns what ``commit_staged`` (quick: a rename, a server-side copy) or ``discard_staged`` takes."""

    def commit_staged(self, staged: object) -> None: ...

    def discard_staged(self, staged: object) -> None: ...

    def delete_object(self, key: str) -> None:
        """Remove a stored object (gone already: no error)."""

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes [start, end) of the object."""

    def public_url(self, key: str) -> str | None: ...
