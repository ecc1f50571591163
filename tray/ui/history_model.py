"""What the History window lists: one :class:`HistoryItem` per capture, built from the upload journal's catalog
(:meth:`tray.upload.history.UploadHistory.catalog`: every upload in any state) plus the captures in the save folder
that the journal does not know (saved without uploading: "local only"). Pure data, no Tk: unit-tested without a
display.

States shown: ``uploaded`` (a link), ``link deleted`` (the owner deleted it on the server: it answers 410 Gone; the
local file can still be uploaded again), ``uploading N%`` (the engine's live progress when it runs the upload, else what
the journal says the server acknowledged), ``waiting (offline)`` / ``waiting (log in)``, ``failed`` (with the reason)
and ``local only`` (a capture in the save folder, or a file the journal records as saved, such as a GIF made from a
recording). An upload whose answer had ``expiresAt`` says ``uploaded · expires in 6 days`` until then and
``expired`` after (the server answers 410 since: no link to copy or open, as a deleted one).

Threading: pure functions and frozen values; any thread.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from tray.humanize import human_bytes, human_duration

UPLOADED, UPLOADING, WAITING, FAILED, LOCAL = "uploaded", "uploading", "waiting", "failed", "local"
DELETED = "deleted"
EXPIRED = "expired"
_KIND = {"screenshot": "Screenshot", "video": "Recording", "gif": "GIF"}
_WAITING = {"paused_offline": "waiting (offline)", "auth_required": "waiting (log in)"}


@dataclass(slots=True)
class HistoryItem:
    """One row (a plain slotted value: 10,000 are built each time the window opens; treat it as immutable)."""
    key: tuple  # ("session", id) | ("history", created_at, path) | ("file", path): stable across refreshes
    kind: str  # "screenshot" | "video" | "gif" (a GIF saved from a recording, uploaded or not)
    local_path: str
    status: str  # UPLOADED, DELETED, EXPIRED, UPLOADING, WAITING, FAILED, LOCAL
    state_text: str
    created_at: float
    url: str | None = None
    size: int | None = None
    duration: float | None = None
    session_id: int | None = None
    error: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.local_path)

    @property
    def name(self) -> str:
        return os.path.basename(self.local_path)

    @property
    def kind_text(self) -> str:
        return _KIND.get(self.kind, self.kind.capitalize())

    @property
    def date_text(self) -> str:
        return f"{dt.datetime.fromtimestamp(self.created_at):%Y-%m-%d %H:%M}"

    @property
    def size_text(self) -> str:
        parts = []
        if self.duration:
            parts.append(human_duration(self.duration))
        if self.size:
            parts.append(human_bytes(self.size))
        return " · ".join(parts)

    def matches(self, query: str) -> bool:
        """Every word of ``query`` appears (case-insensitive) in the name, the date, the kind, the state or the
        link: ``2026-03``, ``recording failed``, ``screenshot-17``."""
        hay = f"{self.name} {self.date_text} {self.kind_text} {self.state_text} {self.url or ''}".lower()
        return all(word in hay for word in query.lower().split())

    # what the actions may do with it
    @property
    def has_link(self) -> bool:
        """A link that works (a deleted one answers 410: nothing to copy or open)."""
        return bool(self.url) and self.status not in (DELETED, EXPIRED)

    @property
    def offline(self) -> bool:
        """Waiting for the server to answer again (the engine probes it with a growing backoff)."""
        return self.status == WAITING and self.state_text == _WAITING["paused_offline"]

    @property
    def retryable(self) -> bool:
        """Failed, or waiting for an unreachable server (retry = try now, not at the next probe)."""
        return (self.status == FAILED or self.offline) and self.session_id is not None


def expires_text(seconds_left: float) -> str:
    """``expires in 6 days`` / ``in 5 hours`` / ``in 12 minutes`` (rounded down, as the share page says it)."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds_left >= size:
            n = int(seconds_left // size)
            return f"expires in {n} {unit}{'s' if n != 1 else ''}"
    return "expires in less than a minute"


def from_catalog(record: Any, progress: Any = None, now: float | None = None) -> HistoryItem:
    """One journal catalog row (``CatalogRecord``); ``progress``: the engine's live ``ProgressSnapshot``, if any;
    ``now``: the time expiries are measured against (default: the wall clock)."""
    state = progress.state.value if progress is not None else record.state
    size = record.size or (record.durable_bytes or None)
    expires_at = getattr(record, "expires_at", None)
    if state == "completed" and record.deleted_at is not None:
        status, text = DELETED, "link deleted"
    elif state == "completed" and expires_at is not None:
        left = expires_at - (time.time() if now is None else now)
        status, text = (EXPIRED, "expired") if left <= 0 else (UPLOADED, f"uploaded · {expires_text(left)}")
    elif state == "completed":
        status, text = UPLOADED, "uploaded"
    elif state == "saved":  # a file Snaplark wrote (a GIF from a recording), never uploaded
        status, text = LOCAL, "local only"
    elif state == "failed":
        status, text = FAILED, "failed" + (f": {record.error}" if record.error else "")
    elif state in _WAITING:
        status, text = WAITING, _WAITING[state]
    else:
        if progress is not None:
            percent = progress.percent
        else:
            total = record.size or record.durable_bytes
            percent = min(100, (record.acked_bytes or 0) * 100 // total) if total else 0
        status, text = UPLOADING, f"uploading {percent}%"
    key = ("session", record.session_id) if record.session_id is not None else (
        "history", record.created_at, record.local_path)
    return HistoryItem(key, record.kind, record.local_path, status, text, record.created_at, url=record.url,
                       size=size, duration=record.duration, session_id=record.session_id, error=record.error)


def build_items(catalog: Iterable[Any], local_files: Iterable[tuple[Path, str, float, int]] = (),
                progress_of: Callable[[int], Any] | None = None, now: float | None = None) -> list[HistoryItem]:
    """The window's rows, newest first: the journal's catalog, then the local files it does not know
    (``tray.captures.list_captures``), merged by date. ``progress_of(session_id)``: the engine's live progress;
    ``now``: for "expires in …" (default: the wall clock)."""
    now = time.time() if now is None else now
    items = []
    known: set[str] = set()
    for record in catalog:
        live = progress_of(record.session_id) if progress_of and record.session_id is not None else None
        items.append(from_catalog(record, live, now))
        known.add(record.local_path)
    for path, kind, mtime, size in local_files:
        if str(path) not in known:
            items.append(HistoryItem(("file", str(path)), kind, str(path), LOCAL, "local only", mtime, size=size))
    items.sort(key=lambda item: item.created_at, reverse=True)
    return items


def search(items: list[HistoryItem], query: str) -> list[HistoryItem]:
    return [item for item in items if item.matches(query)] if query.strip() else list(items)
