"""The same numbered migrations (db.py) on PostgreSQL (pg.py, translated by sql_dialect.py): a database left at
version 1 moves forward with its rows intact (the tokens move to their table in migration 4), 64-bit sizes and
binary part heads round-trip, a newer schema is refused, and instances starting at once upgrade it once."""

from __future__ import annotations

import threading

import pytest

from snaplark_server.db import SCHEMA_VERSION
from snaplark_server.pg import PostgresDatabase
from snaplark_server.users import authenticate, hash_token


def test_a_version_1_database_is_migrated_in_place(postgres_url):
    db = PostgresDatabase(postgres_url, migrate=False)
    try:
        db.schema_version = 1
        assert db.upgrade() == (0, 1)
        with db.write() as conn:
            conn.execute("INSERT INTO users (name, token_hash, created_at) VALUES ('old', ?, 1.0)",
                         (hash_token("slk_an-old-token-0123456789"),))
            conn.execute("INSERT INTO objects (id, user_id, kind, object_key, content_type, size, sha256, created_at)"
                         " VALUES ('abc', 1, 'video', 'videos/abc.webm', 'video/webm', ?, 'x', 2.0)", (5 * 2**30,))
        db.schema_version = SCHEMA_VERSION
        assert db.upgrade() == (1, SCHEMA_VERSION)
        assert db.current_version() == SCHEMA_VERSION
        assert authenticate(db, "slk_an-old-token-0123456789").name == "old"
        assert db.query_one("SELECT size FROM objects WHERE id = 'abc'")["size"] == 5 * 2**30  # BIGINT, not INTEGER
        with db.write() as conn:
            conn.execute("INSERT INTO sessions (id, user_id, state, created_at, last_activity, metadata, video_id,"
                         " object_key) VALUES ('s', 1, 'open', 1.0, 1.0, '{}', 'v', 'videos/v.webm')")
            conn.execute("INSERT INTO parts (session_id, idx, size, sha256, received_at, head) VALUES"
                         " ('s', 0, 3, 'y', 1.5, ?)", (b"\x1a\x45\xdf\xa3\x00\xff",))
        row = db.query_one("SELECT head, received_at FROM parts WHERE session_id = 's'")
        assert bytes(row["head"]) == b"\x1a\x45\xdf\xa3\x00\xff" and row["received_at"] == 1.5
        assert db.upgrade() == (SCHEMA_VERSION, SCHEMA_VERSION)  # nothing left to do
    finally:
        db.close()


def test_a_newer_database_is_refused(postgres_url):
    PostgresDatabase(postgres_url).close()
    db = PostgresDatabase(postgres_url, migrate=False)
    db.execute("UPDATE snaplark_schema SET version = ?", (SCHEMA_VERSION + 1,))
    db.close()
    with pytest.raises(RuntimeError, match="newer than this server"):
        PostgresDatabase(postgres_url)


def test_instances_starting_at_once_upgrade_once(postgres_url):
    opened, errors = [], []
    go = threading.Barrier(4)

    def start() -> None:
        go.wait(10)
        try:
            opened.append(PostgresDatabase(postgres_url))
        except Exception as exc:  # a second CREATE TABLE on the same schema would land here
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == [] and len(opened) == 4
        assert opened[0].query_one("SELECT COUNT(*) FROM snaplark_schema")[0] == 1
        assert opened[0].current_version() == SCHEMA_VERSION
    finally:
        for db in opened:
            db.close()
