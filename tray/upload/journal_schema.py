"""The upload journal's SQLite schema, its versioned migrations and its read queries that join tables
(:mod:`tray.upload.journal` opens the file).

``PRAGMA user_version`` holds the schema version. A journal written by an older Snaplark is brought up to
:data:`SCHEMA_VERSION` in place, one migration after another, inside the opening transaction (all of them or none);
a journal from a newer Snaplark is refused with a message that says so. Migrations only add: an older Snaplark's
rows keep every value they had.

Threading: pure data and one function called under the journal's lock.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 5

# version 1: the tables every journal starts with
TABLES = """
CREATE TABLE IF NOT EXISTS sessions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT    NOT NULL CHECK (kind IN ('video', 'screenshot')),
    local_path        TEXT    NOT NULL,
    metadata          TEXT    NOT NULL DEFAULT '{}',
    server_url        TEXT,
    server_session_id TEXT,
    state             TEXT    NOT NULL,
    durable_bytes     INTEGER NOT NULL DEFAULT 0,
    finished          INTEGER NOT NULL DEFAULT 0,
    total_size        INTEGER,
    duration          REAL,
    url               TEXT,
    error             TEXT,
    created_at        REAL    NOT NULL,
    updated_at        REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    "offset"   INTEGER NOT NULL,
    length     INTEGER NOT NULL,
    sha256     TEXT,
    acked      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, idx)
);
CREATE TABLE IF NOT EXISTS history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   INTEGER,
    kind         TEXT NOT NULL,
    local_path   TEXT NOT NULL,
    url          TEXT NOT NULL,
    size         INTEGER,
    duration     REAL,
    server_url   TEXT,
    completed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_session ON history(session_id);
"""

# changes to a journal written by an older version, by the version they bring it to
MIGRATIONS = {
    # 2: both links of a finished upload (tray.upload.links): history.url is the one handed to the user
    2: """
    ALTER TABLE history ADD COLUMN file_url TEXT;
    ALTER TABLE history ADD COLUMN page_url TEXT;
    """,
    # 3: the owner deleted the link on the server (DELETE /objects/<id>: it answers 410 Gone since); NULL = alive
    3: """
    ALTER TABLE history ADD COLUMN deleted_at REAL;
    """,
    # 4: when the server deletes the upload (its answer's expiresAt, as a Unix time); NULL = no expiry known
    4: """
    ALTER TABLE history ADD COLUMN expires_at REAL;
    """,
    # 5: files Snaplark wrote that are not uploads (a GIF saved from a recording): History lists them, and an upload
    # of one keeps their kind ('gif'; its session says 'screenshot', the endpoint it went to); one row per path
    5: """
    CREATE TABLE IF NOT EXISTS saved_files (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT NOT NULL,
        local_path  TEXT NOT NULL UNIQUE,
        source_path TEXT,
        size        INTEGER,
        duration    REAL,
        created_at  REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sessions_by_path ON sessions(local_path);
    CREATE INDEX IF NOT EXISTS history_by_path ON history(local_path);
    """,
}

# the History window's catalog (tray.upload.history.CatalogRecord names the columns): every session with its link
# (a saved file's kind wins: an uploaded GIF stays "gif"), history rows without a session, and the saved files
# nobody uploaded (state 'saved')
CATALOG_SQL = """
SELECT s.id, COALESCE(f.kind, s.kind), s.local_path, s.state, COALESCE(s.url, h.url), s.error, s.total_size,
       s.durable_bytes, s.duration, s.created_at, COALESCE(h.completed_at, s.updated_at),
       CASE WHEN s.state NOT IN ('completed', 'failed')
            THEN (SELECT COALESCE(SUM(p.length), 0) FROM parts p WHERE p.session_id = s.id AND p.acked) END,
       h.deleted_at, h.expires_at
  FROM sessions s LEFT JOIN history h ON h.session_id = s.id LEFT JOIN saved_files f ON f.local_path = s.local_path
UNION ALL
SELECT NULL, kind, local_path, 'completed', url, NULL, size, COALESCE(size, 0), duration, completed_at,
       completed_at, NULL, deleted_at, expires_at
  FROM history WHERE session_id IS NULL
UNION ALL
SELECT NULL, kind, local_path, 'saved', NULL, NULL, size, COALESCE(size, 0), duration, created_at, created_at, NULL,
       NULL, NULL
  FROM saved_files f WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.local_path = f.local_path)
                       AND NOT EXISTS (SELECT 1 FROM history h WHERE h.local_path = f.local_path)
ORDER BY 10 DESC
"""
# the saved files (migration 5) with no completed upload of theirs: `snaplark history` lists them with the uploads
SAVED_SQL = """
SELECT kind, local_path, size, duration, source_path, created_at FROM saved_files f
 WHERE NOT EXISTS (SELECT 1 FROM history h WHERE h.local_path = f.local_path) ORDER BY created_at DESC, id DESC
"""


class NewerSchema(Exception):
    """The journal was written by a newer Snaplark (its version is the argument)."""


def migrate(conn: sqlite3.Connection) -> int:
    """Create the tables and run the migrations the journal lacks, in the caller's transaction; returns the
    version the journal had (0: a new file). Raises :class:`NewerSchema` for a journal newer than this code."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewerSchema(version)
    _run(conn, TABLES)
    # a new file gets the version-1 tables above and then every migration, like an old one
    for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
        _run(conn, MIGRATIONS[target])
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    return version


def _run(conn: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)
