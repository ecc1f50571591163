"""Upload history: every completed upload with its link (SQLite; the journal's ``history`` table).

The journal appends a row in the same transaction that marks an upload completed, so the history never lists an
upload the journal still thinks is pending, and vice versa. Threading: as :class:`~tray.upload.journal.UploadJournal`.
"""

from __future__ import annotations

from pathlib import Path

from tray.upload.journal import HistoryRecord, UploadJournal, default_journal_path


class UploadHistory:
    def __init__(self, journal: UploadJournal):
        self._journal = journal

    @classmethod
    def at(cls, path: str | Path | None = None) -> "UploadHistory":
        """History backed by the journal at ``path`` (default: the data dir's journal)."""
        return cls(UploadJournal(path or default_journal_path()))

    def entries(self, limit: int | None = None) -> list[HistoryRecord]:
        """Most recent first."""
        return self._journal.history(limit)

    def add(self, kind: str, local_path: str | Path, url: str, *, size: int | None = None,
            duration: float | None = None, server_url: str | None = None) -> int:
        """Record an upload done outside the engine (e.g. imported from elsewhere)."""
        return self._journal.add_history(kind, str(local_path), url, size=size, duration=duration,
                                         server_url=server_url)

    def close(self) -> None:
        self._journal.close()
