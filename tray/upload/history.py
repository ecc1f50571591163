"""Upload history: every completed upload with its link, most recent first -- a read view of the journal.

The journal (:mod:`tray.upload.journal`) appends a history row in the same transaction that marks an upload
completed, so the history never lists an upload the journal still thinks is pending, and vice versa. The upload side
owns it: :class:`tray.services.UploadStack` builds one over its journal for the tray (Recent uploads menu), and
:func:`tray.services.open_upload_history` opens one for ``snaplark history``; the UI and the CLI only read it.

Threading: as :class:`~tray.upload.journal.UploadJournal` (any thread).
"""

from __future__ import annotations

from tray.upload.journal import HistoryRecord, UploadJournal


class UploadHistory:
    def __init__(self, journal: UploadJournal):
        self._journal = journal

    def entries(self, limit: int | None = None) -> list[HistoryRecord]:
        """Most recent first; ``limit`` None: all."""
        return self._journal.history(limit)
