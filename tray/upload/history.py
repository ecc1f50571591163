"""Upload history: every completed upload with its link, most recent first -- a read view of the journal; and the
catalog of every upload in any state (the History window).

The journal (:mod:`tray.upload.journal`) appends a history row in the same transaction that marks an upload
completed, so the history never lists an upload the journal still thinks is pending, and vice versa. The upload side
owns it: :class:`tray.services.UploadStack` builds one over its journal for the tray (Recent uploads menu), and
:func:`tray.services.open_upload_history` opens one for ``snaplark history``; the UI and the CLI read it, and write
two things through it: that the owner deleted a link on the server (:meth:`UploadHistory.mark_link_deleted`), and a
file Snaplark wrote that is no upload, a GIF saved from a recording (:meth:`UploadHistory.record_saved`): History and
``snaplark history`` list it (kind "gif"), local only until it is uploaded, then with its link.

Threading: as :class:`~tray.upload.journal.UploadJournal` (any thread).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from tray.upload.journal import HistoryRecord, UploadJournal


class CatalogRecord(NamedTuple):
    """One upload the journal knows (the History window's rows): a session in any state, or a history row that has
    no session (``session_id`` None). ``state`` is an :class:`~tray.upload.state.UploadState` value; ``size`` the
    file's size once known; ``acked_bytes`` what the server acknowledged of an unfinished upload (None once it
    completed or failed); ``deleted_at`` when the owner deleted its link on the server (None: alive); ``expires_at`` when the
    server deletes it (its answer's expiresAt)."""
    session_id: int | None
    kind: str
    local_path: str
    state: str
    url: str | None
    error: str | None
    size: int | None
    durable_bytes: int
    duration: float | None
    created_at: float
    updated_at: float
    acked_bytes: int | None
    deleted_at: float | None = None
    expires_at: float | None = None  # when the server deletes it (Unix time), None: no expiry known


class SavedFile(NamedTuple):
    """A file Snaplark wrote that has no completed upload (``snaplark history`` lists it: no link)."""
    kind: str
    local_path: str
    size: int | None
    duration: float | None
    source_path: str | None
    created_at: float


class UploadHistory:
    def __init__(self, journal: UploadJournal):
        self._journal = journal

    def entries(self, limit: int | None = None, *, alive_only: bool = False) -> list[HistoryRecord]:
        """Most recent first; ``limit`` None: all; ``alive_only``: without the links the owner deleted or that
        expired (the tray's Recent uploads)."""
        return self._journal.history(limit, alive_only=alive_only)

    def mark_link_deleted(self, link: str) -> int:
        """Record that the owner deleted ``link`` on the server (see :meth:`UploadJournal.mark_link_deleted`)."""
        return self._journal.mark_link_deleted(link)

    def record_saved(self, kind: str, path: str | Path, *, source: str | Path | None = None,
                     duration: float | None = None) -> int:
        """Record the file ``path`` Snaplark just wrote (``kind`` "gif": from the recording ``source``); its size
        is read now. A later upload of it (same absolute path) keeps the kind."""
        path = Path(path).absolute()
        return self._journal.add_saved_file(kind, path, size=path.stat().st_size, duration=duration,
                                            source_path=None if source is None else Path(source).absolute())

    def saved(self) -> list[SavedFile]:
        """The saved files with no completed upload, newest first."""
        return [SavedFile._make(row) for row in self._journal.saved_rows()]

    def catalog(self) -> list[CatalogRecord]:
        """Every upload, whatever its state, newest first (one query: fast for 10,000 rows)."""
        make = CatalogRecord._make
        return [make(row) for row in self._journal.catalog_rows()]
