"""Durable record of every upload: SQLite in WAL mode, in the data dir.

Tables: ``sessions`` (one per upload: video or screenshot), ``saved_files`` (files written that are no upload: a GIF
saved from a recording), ``parts`` (byte ranges of a video's local file, their
sha256 and whether the server acknowledged them) and ``history`` (completed uploads, read through ``tray.upload.history``; a link the owner deleted on the server keeps its
row, with ``deleted_at``). The schema and its migrations: :mod:`tray.upload.journal_schema`.
Every method is one transaction, committed before it returns: callers change the journal first and act second,
so a crash at any point leaves a journal that describes at most one action too few, never one too many.

A full disk (``SQLITE_FULL``) or any other SQLite failure raises :class:`JournalError` after a rollback: nothing is
half-written.

Threading: one connection guarded by a lock; safe to share between the engine's workers and the recorder thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from tray import paths
from tray.upload.journal_schema import CATALOG_SQL, SAVED_SQL, SCHEMA_VERSION, NewerSchema, migrate

__all__ = ["SCHEMA_VERSION", "JOURNAL_FILENAME", "JournalError", "PartRecord", "SessionRecord", "HistoryRecord",
           "TERMINAL_STATES", "UploadJournal", "default_journal_path"]

JOURNAL_FILENAME = "uploads.sqlite3"

TERMINAL_STATES = ("completed", "failed")


class JournalError(RuntimeError):
    """The journal could not be read or written (disk full, corrupt database, permissions)."""


@dataclass
class PartRecord:
    index: int
    offset: int
    length: int
    sha256: str | None = None
    acked: bool = False

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass
class SessionRecord:
    id: int
    kind: str
    local_path: str
    metadata: dict[str, Any]
    server_url: str | None
    server_session_id: str | None
    state: str
    durable_bytes: int
    finished: bool
    total_size: int | None
    duration: float | None
    url: str | None
    error: str | None
    created_at: float
    updated_at: float
    parts: list[PartRecord] = field(default_factory=list)


@dataclass
class HistoryRecord:
    id: int
    session_id: int | None
    kind: str
    local_path: str
    url: str
    size: int | None
    duration: float | None
    server_url: str | None
    completed_at: float
    file_url: str | None = None  # the file itself (the server's url) ...
    page_url: str | None = None  # ... and its share page (pageUrl), when the server gave one
    deleted_at: float | None = None  # when the owner deleted the link on the server (it answers 410 since)
    expires_at: float | None = None  # when the server deletes it (the answer's expiresAt), None: no expiry known


def default_journal_path() -> Path:
    return paths.data_dir() / JOURNAL_FILENAME


class UploadJournal:
    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._sync_mode = "FULL"

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> "UploadJournal":
        with self._lock:
            if self._conn is not None:
                return self
            try:
                paths.ensure_private_dir(self.path.parent)
                conn = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None,
                                       check_same_thread=False)
                paths.make_private_file(self.path)  # SQLite gives its -wal/-shm files the database's mode
            except (OSError, sqlite3.Error) as exc:
                raise JournalError(f"cannot open upload journal {self.path}: {exc}") from exc
            self._conn = conn
            try:
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=FULL")
                    self._sync_mode = "FULL"
                    conn.execute("PRAGMA foreign_keys=ON")
                except sqlite3.Error as exc:
                    raise JournalError(f"cannot open upload journal {self.path}: {exc} (move the file away to "
                                       f"start a new journal)") from exc
                with self._tx() as c:
                    try:
                        migrate(c)
                    except NewerSchema as newer:
                        raise JournalError(f"upload journal {self.path} has schema version {newer.args[0]}, newer "
                                           f"than this Snaplark ({SCHEMA_VERSION}); upgrade Snaplark") from None
            except BaseException:
                self.close()
                raise
            return self

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "UploadJournal":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection (tests use it to simulate a full disk)."""
        return self._conn_or_open()

    def _conn_or_open(self) -> sqlite3.Connection:
        if self._conn is None:
            self.open()
        assert self._conn is not None
        return self._conn

    @contextmanager
    def _tx(self, *, sync: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction. ``sync=False`` (WAL + ``synchronous=NORMAL``): survives a crash of the process
        but may be rolled back by a power loss -- used for acks and byte counts, which the server's status and the
        file itself can restore; everything else is fsynced before it returns."""
        with self._lock:
            conn = self._conn_or_open()
            want = "FULL" if sync else "NORMAL"
            if self._sync_mode != want:
                try:
                    conn.execute(f"PRAGMA synchronous={want}")
                except sqlite3.Error as exc:
                    raise JournalError(f"upload journal {self.path}: {exc}") from exc
                self._sync_mode = want
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if "full" in str(exc).lower():
                    raise JournalError(f"upload journal {self.path}: the disk is full ({exc}); free some space "
                                       f"and retry -- nothing was recorded") from exc
                raise JournalError(f"upload journal {self.path}: {exc}") from exc
            except BaseException:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn_or_open()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise JournalError(f"upload journal {self.path}: {exc}") from exc

    # ------------------------------------------------------------------ sessions
    def create_session(self, kind: str, local_path: str | Path, metadata: dict[str, Any] | None = None, *,
                       server_url: str | None = None, state: str = "idle", finished: bool = False,
                       total_size: int | None = None, duration: float | None = None,
                       before_commit: Callable[[int], None] | None = None) -> int:
        """Insert a session; ``before_commit(id)`` runs inside the transaction (e.g. to take the session's lease
        before any other process can see the row)."""
        now = self._clock()
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO sessions (kind, local_path, metadata, server_url, state, finished, total_size, duration,"
                " durable_bytes, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (kind, str(local_path), json.dumps(metadata or {}), server_url, state, int(finished), total_size,
                 duration, int(total_size or 0) if finished else 0, now, now))
            session_id = int(cur.lastrowid)
            if before_commit is not None:
                before_commit(session_id)
            return session_id

    _UPDATABLE = {"server_url", "server_session_id", "state", "durable_bytes", "finished", "total_size",
                  "duration", "url", "error", "metadata", "local_path"}

    def update_session(self, session_id: int, **fields: Any) -> None:
        self._update(session_id, fields)

    def _update(self, session_id: int, fields: dict[str, Any], *, sync: bool = True) -> None:
        unknown = set(fields) - self._UPDATABLE
        if unknown:
            raise ValueError(f"unknown session fields: {sorted(unknown)}")
        if "metadata" in fields:
            fields["metadata"] = json.dumps(fields["metadata"] or {})
        if "finished" in fields:
            fields["finished"] = int(bool(fields["finished"]))
        if "local_path" in fields:
            fields["local_path"] = str(fields["local_path"])
        fields["updated_at"] = self._clock()
        cols = ", ".join(f"{k} = ?" for k in fields)
        with self._tx(sync=sync) as c:
            cur = c.execute(f"UPDATE sessions SET {cols} WHERE id = ?", (*fields.values(), session_id))
            if cur.rowcount != 1:
                raise JournalError(f"upload journal has no session {session_id}")

    def set_state(self, session_id: int, state: str, *, error: str | None = None, sync: bool = True) -> None:
        """``sync=False`` for a state a power loss may roll back (see ``_tx``): one that resumes like the one before."""
        self._update(session_id, {"state": state} if error is None else {"state": state, "error": error}, sync=sync)

    def get_session(self, session_id: int) -> SessionRecord | None:
        with self._read() as c:
            row = c.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                return None
            rec = self._session_from_row(c, row)
            rec.parts = self._parts(c, session_id)
            return rec

    def sessions(self, *, unfinished_only: bool = False, kind: str | None = None) -> list[SessionRecord]:
        where, args = [], []
        if unfinished_only:
            where.append("state NOT IN (?, ?)")
            args += list(TERMINAL_STATES)
        if kind:
            where.append("kind = ?")
            args.append(kind)
        sql = "SELECT * FROM sessions" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with self._read() as c:
            out = []
            for row in c.execute(sql, args).fetchall():
                rec = self._session_from_row(c, row)
                rec.parts = self._parts(c, rec.id)
                out.append(rec)
            return out

    def resumable_sessions(self) -> list[SessionRecord]:
        """Sessions that are neither completed nor failed (what a restarted engine picks up)."""
        return self.sessions(unfinished_only=True)

    @staticmethod
    def _session_from_row(c: sqlite3.Connection, row: tuple) -> SessionRecord:
        names = [d[0] for d in c.execute("SELECT * FROM sessions LIMIT 0").description]
        d = dict(zip(names, row))
        return SessionRecord(
            id=d["id"], kind=d["kind"], local_path=d["local_path"], metadata=json.loads(d["metadata"] or "{}"),
            server_url=d["server_url"], server_session_id=d["server_session_id"], state=d["state"],
            durable_bytes=d["durable_bytes"], finished=bool(d["finished"]), total_size=d["total_size"],
            duration=d["duration"], url=d["url"], error=d["error"], created_at=d["created_at"],
            updated_at=d["updated_at"])

    # ------------------------------------------------------------------ parts
    @staticmethod
    def _parts(c: sqlite3.Connection, session_id: int) -> list[PartRecord]:
        rows = c.execute('SELECT idx, "offset", length, sha256, acked FROM parts WHERE session_id = ? ORDER BY idx',
                         (session_id,)).fetchall()
        return [PartRecord(i, o, n, s, bool(a)) for i, o, n, s, a in rows]

    def parts(self, session_id: int) -> list[PartRecord]:
        with self._read() as c:
            return self._parts(c, session_id)

    def add_parts(self, session_id: int, parts: list[PartRecord], *, durable_bytes: int | None = None) -> None:
        """Record newly cut parts (and optionally the durable byte count) in one transaction."""
        now = self._clock()
        with self._tx(sync=False) as c:
            c.executemany('INSERT INTO parts (session_id, idx, "offset", length, sha256, acked) VALUES (?,?,?,?,?,?)',
                          [(session_id, p.index, p.offset, p.length, p.sha256, int(p.acked)) for p in parts])
            if durable_bytes is not None:
                c.execute("UPDATE sessions SET durable_bytes = MAX(durable_bytes, ?), updated_at = ? WHERE id = ?",
                          (durable_bytes, now, session_id))

    def set_part_sha(self, session_id: int, index: int, sha256: str) -> None:
        with self._tx(sync=False) as c:
            c.execute("UPDATE parts SET sha256 = ? WHERE session_id = ? AND idx = ?", (sha256, session_id, index))

    def mark_acked(self, session_id: int, index: int, sha256: str | None = None) -> None:
        with self._tx(sync=False) as c:
            if sha256 is None:
                c.execute("UPDATE parts SET acked = 1 WHERE session_id = ? AND idx = ?", (session_id, index))
            else:
                c.execute("UPDATE parts SET acked = 1, sha256 = ? WHERE session_id = ? AND idx = ?",
                          (sha256, session_id, index))

    def set_acked(self, session_id: int, acked: dict[int, bool]) -> None:
        """Replace the acked flag of several parts at once (after asking the server what it holds)."""
        with self._tx(sync=False) as c:
            c.executemany("UPDATE parts SET acked = ? WHERE session_id = ? AND idx = ?",
                          [(int(v), session_id, i) for i, v in acked.items()])

    def reset_acks(self, session_id: int, server_session_id: str | None = None) -> None:
        """The server lost the session: forget every ack (and the old sessionId) in one transaction."""
        now = self._clock()
        with self._tx() as c:
            c.execute("UPDATE parts SET acked = 0 WHERE session_id = ?", (session_id,))
            c.execute("UPDATE sessions SET server_session_id = ?, updated_at = ? WHERE id = ?",
                      (server_session_id, now, session_id))

    def update_durable(self, session_id: int, durable_bytes: int) -> None:
        now = self._clock()
        with self._tx(sync=False) as c:
            c.execute("UPDATE sessions SET durable_bytes = MAX(durable_bytes, ?), updated_at = ? WHERE id = ?",
                      (durable_bytes, now, session_id))

    # ------------------------------------------------------------------ completion + history
    def complete(self, session_id: int, url: str, *, file_url: str | None = None,
                 page_url: str | None = None, expires_at: float | None = None) -> None:
        """Mark the session completed and append it to the history, atomically. ``url`` is the link handed to the
        user; ``file_url`` / ``page_url`` the server's two (tray.upload.links); ``expires_at`` when the server
        deletes it (Unix time)."""
        now = self._clock()
        with self._tx() as c:
            row = c.execute("SELECT COALESCE(f.kind, s.kind), s.local_path, total_size, s.duration, server_url FROM "
                            "sessions s LEFT JOIN saved_files f ON f.local_path = s.local_path WHERE s.id = ?",
                            (session_id,)).fetchone()
            if row is None:
                raise JournalError(f"upload journal has no session {session_id}")
            c.execute("UPDATE sessions SET state = 'completed', url = ?, error = NULL, updated_at = ? WHERE id = ?",
                      (url, now, session_id))
            c.execute("INSERT INTO history (session_id, kind, local_path, url, size, duration, server_url, "
                      "completed_at, file_url, page_url, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (session_id, *row[:2], url, *row[2:], now, file_url or url, page_url, expires_at))

    def history(self, limit: int | None = None, *, alive_only: bool = False) -> list[HistoryRecord]:
        """Most recent first; ``alive_only``: without the links the owner deleted or that expired (by this
        journal's clock)."""
        alive = "WHERE deleted_at IS NULL AND (expires_at IS NULL OR expires_at > ?) " if alive_only else ""
        sql = "SELECT id, session_id, kind, local_path, url, size, duration, server_url, completed_at, file_url, " \
              "page_url, deleted_at, expires_at FROM history " + alive + "ORDER BY completed_at DESC, id DESC"
        args: tuple = (self._clock(),) if alive_only else ()
        if limit is not None:
            sql += " LIMIT ?"
            args += (int(limit),)
        with self._read() as c:
            return [HistoryRecord(*row) for row in c.execute(sql, args).fetchall()]

    def catalog_rows(self) -> list[tuple]:
        """Every upload the journal knows, newest first, in one query (the History window lists 10,000 at once): each
        session with its link, and history rows without a session; for an unfinished upload, the bytes the server
        acked. :class:`tray.upload.history.CatalogRecord` names the columns."""
        with self._read() as c:
            return c.execute(CATALOG_SQL).fetchall()

    def add_history(self, kind: str, local_path: str, url: str, *, size: int | None = None,
                    duration: float | None = None, server_url: str | None = None) -> int:
        with self._tx() as c:
            cur = c.execute("INSERT INTO history (session_id, kind, local_path, url, size, duration, server_url, "
                            "completed_at) VALUES (NULL,?,?,?,?,?,?,?)",
                            (kind, local_path, url, size, duration, server_url, self._clock()))
            return int(cur.lastrowid)

    def add_saved_file(self, kind: str, local_path: str | Path, *, size: int | None = None,
                       duration: float | None = None, source_path: str | Path | None = None) -> int:
        """Record a file Snaplark wrote that is no upload (``kind`` "gif": a GIF saved from the recording
        ``source_path``); a new file at the same path replaces the row. History lists it, with this kind also once
        it is uploaded."""
        with self._tx() as c:
            return int(c.execute(
                "INSERT OR REPLACE INTO saved_files (kind, local_path, source_path, size, duration, created_at) "
                "VALUES (?,?,?,?,?,?)", (kind, str(local_path), None if source_path is None else str(source_path),
                                         size, duration, self._clock())).lastrowid)

    def saved_rows(self) -> list[tuple]:
        """The saved files with no upload of theirs completed, newest first: (kind, local_path, size, duration,
        source_path, created_at)."""
        with self._read() as c:
            return c.execute(SAVED_SQL).fetchall()

    def mark_link_deleted(self, link: str) -> int:
        """The owner deleted ``link`` on the server: every history row of that upload gets ``deleted_at`` (now),
        whichever of its links (page or file, same host and object id) ``link`` is. Returns how many rows were
        marked (0: the journal does not know the link, or it was marked already: the first time stays)."""
        wanted = _link_identity(link)
        with self._tx() as c:
            rows = c.execute("SELECT id, url, file_url, page_url FROM history WHERE deleted_at IS NULL").fetchall()
            ids = [row[0] for row in rows if wanted in {_link_identity(u) for u in row[1:] if u}]
            c.executemany("UPDATE history SET deleted_at = ? WHERE id = ?", [(self._clock(), i) for i in ids])
            return len(ids)


def _link_identity(link: str) -> tuple:
    """What makes two links name one upload: the host and the object (``/s/<id>`` and ``/s/<id>.png`` are one)."""
    from urllib.parse import urlsplit

    from tray.upload.links import object_of_link

    link = link.strip()
    return urlsplit(link).netloc.lower(), object_of_link(link) or link
