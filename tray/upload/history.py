"""Upload history: every completed upload with its link, most recent first -- a read view of the journal; and the
catalog of every upload in any state (the History window).

The journal (:mod:`tray.upload.journal`) appends a history row in the same transaction that marks an upload
completed, so the history never lists an upload the journal still thinks is pending, and vice versa. The upload side
owns it: :class:`tray.services.UploadStack` builds one over its journal for the tray (Recent uploads menu), and
:func:`tray.services.open_upload_history` opens one for ``snaplark history``; the UI and the CLI read it, and write
one thing through it: that the owner deleted a link on the server (:meth:`UploadHistory.mark_link_deleted`).

Threading: as :class:`~tray.upload.journal.UploadJournal` (any thread).
"""

from __future__ import annotations

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

    def catalog(self) -> list[CatalogRecord]:
        """Every upload, whatever its state, newest first (one query: fast for 10,000 rows)."""
        make = CatalogRecord._make
        return [make(row) for row in self._journal.catalog_rows()]
