"""SQLite metadata store (WAL, versioned schema, one writer at a time).

Threading contract: one `Database` object may be used from any number of threads. All access goes through one
connection guarded by a re-entrant lock, so there is exactly one writer at a time inside the process; other
processes (e.g. the CLI adding a user while the server runs) are serialised by SQLite itself (busy timeout).
Commits use ``synchronous=FULL`` so a row that was committed before a response was sent survives SIGKILL and
power loss.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator

from .locks import KeyedLocks
from .private_files import ensure_private_file, make_private_dir, tighten

SCHEMA_VERSION = 6
DB_FILENAME = "snaplark-server.sqlite3"

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        token_hash TEXT UNIQUE,
        created_at REAL NOT NULL
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        state TEXT NOT NULL CHECK (state IN ('open', 'finalized')),
        created_at REAL NOT NULL,
        last_activity REAL NOT NULL,
        metadata TEXT NOT NULL,
        upload_id TEXT,
        video_id TEXT NOT NULL UNIQUE,
        object_key TEXT NOT NULL,
        total_chunks INTEGER,
        size INTEGER,
        sha256 TEXT,
        duration REAL,
        final_metadata TEXT,
        finalized_at REAL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE INDEX sessions_activity ON sessions(state, last_activity);
    CREATE TABLE parts (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        etag TEXT,
        received_at REAL NOT NULL,
        PRIMARY KEY (session_id, idx)
    );
    CREATE TABLE objects (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL CHECK (kind IN ('screenshot', 'video')),
        object_key TEXT NOT NULL UNIQUE,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 2: bytes each user stored per UTC day (quotas.py, user_max_bytes_per_day)
    2: """
    CREATE TABLE ingest_days (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (user_id, day)
    );
    """,
    # 3: the first bytes of each part, so finalize can check the container signature of part 0 (uploads.py)
    3: """
    ALTER TABLE parts ADD COLUMN head BLOB;
    """,
    # 4: several tokens per user, each with an optional expiry; users can be disabled (users.py). The tokens move
    # from users.token_hash (kept, always NULL from now on: a UNIQUE column cannot be dropped) to their own table.
    4: """
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        expires_at REAL
    );
    CREATE INDEX tokens_user ON tokens(user_id);
    INSERT INTO tokens (user_id, token_hash, created_at)
        SELECT id, token_hash, created_at FROM users WHERE token_hash IS NOT NULL;
    UPDATE users SET token_hash = NULL;
    ALTER TABLE users ADD COLUMN disabled_at REAL;
    """,
    # 5: what the share pages show (shares.py): the video's duration and size and its poster, measured at finalize
    # (or a screenshot's size at upload), an owner's title, and the tombstone of a deleted object (its row stays so
    # its links answer 410 Gone); version counts trims (a new ETag, a new poster)
    5: """
    ALTER TABLE objects ADD COLUMN title TEXT;
    ALTER TABLE objects ADD COLUMN duration REAL;
    ALTER TABLE objects ADD COLUMN width INTEGER;
    ALTER TABLE objects ADD COLUMN height INTEGER;
    ALTER TABLE objects ADD COLUMN poster_key TEXT;
    ALTER TABLE objects ADD COLUMN poster_size INTEGER;
    ALTER TABLE objects ADD COLUMN poster_sha256 TEXT;
    ALTER TABLE objects ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE objects ADD COLUMN deleted_at REAL;
    """,
    # 6: (issue 15) media jobs -- a video's duration, size and poster are measured by a background worker after
    # finalize answers (media_jobs.py); a row stays 'pending' until done, so a restart picks it up. An object may
    # expire (expires_at, from expiresIn at upload or the server's default_expiry): the cleanup loop deletes it and
    # leaves the tombstone with deleted_reason 'expired' (an owner's delete: 'owner')
    6: """
    CREATE TABLE media_jobs (
        object_id TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        error TEXT,
        PRIMARY KEY (object_id, kind)
    );
    CREATE INDEX media_jobs_state ON media_jobs(state, created_at);
    ALTER TABLE objects ADD COLUMN expires_at REAL;
    ALTER TABLE objects ADD COLUMN deleted_reason TEXT;
    CREATE INDEX objects_expiry ON objects(expires_at);
    """,
}


class Database:
    """The server's metadata database; see the module docstring for the threading contract. PostgreSQL has the same
    interface (pg.py; `open_database` in databases.py picks one from the config)."""

    kind = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        make_private_dir(self.path.parent)
        ensure_private_file(self.path)  # 0600 before SQLite opens it; its -wal and -shm files copy this mode
        for side in ("-wal", "-shm"):  # left readable by an older version
            tighten(self.path.with_name(self.path.name + side), 0o600)
        self._lock = threading.RLock()
        self._session_locks = KeyedLocks()  # lock(): one process owns the data dir, so process memory serialises
        self._conn = sqlite3.connect(
            str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    @classmethod
    def in_data_dir(cls, data_dir: Path | str) -> "Database":
        return cls(Path(data_dir) / DB_FILENAME)

    def _migrate(self) -> None:
        with self.write() as conn:
            version = self.version_at_open = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: database schema version {version} is newer than this server ({SCHEMA_VERSION})"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={target}")

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT), holding the writer lock."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._rollback()
                raise
            try:
                self._conn.execute("COMMIT")
            except BaseException:  # e.g. "database or disk is full": never leave the connection inside BEGIN
                self._rollback()
                raise

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:  # SQLite may have rolled back by itself already
                pass

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def execute(self, sql: str, params: tuple | dict = ()) -> Any:
        with self.write() as conn:
            return conn.execute(sql, params)

    def lock(self, name: str) -> contextlib.AbstractContextManager:
        """Serialise work on ``name`` (an upload session) between the threads of this process (re-entrant)."""
        return self._session_locks.hold(name)

    def forget_lock(self, name: str) -> None:
        self._session_locks.forget(name)

    def serialize(self, conn: sqlite3.Connection, name: str) -> None:
        """Inside ``write()``: nothing to do, SQLite has one writer at a time (BEGIN IMMEDIATE)."""

    def upgrade(self) -> tuple[int, int]:
        """(schema version before, after): SQLite migrates when the database is opened."""
        return self.version_at_open, SCHEMA_VERSION

    def is_leader(self) -> bool:
        """Whether this process runs the expiry/cleanup loop: always, with SQLite."""
        return True

    def close(self) -> None:
        with self._lock:
            self._conn.close()
