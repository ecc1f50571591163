"""The server's SQLite schema moves forward by numbered migrations (db.py): a database written by an older version
opens with its rows intact and the new tables in place; one from a newer version is refused."""

from __future__ import annotations

import sqlite3

import pytest

from snaplark_server import db as dbmod
from snaplark_server.db import DB_FILENAME, Database
from snaplark_server.users import authenticate, hash_token


def make_v1_database(path) -> None:
    conn = sqlite3.connect(path)
    for statement in dbmod._MIGRATIONS[1].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO users (name, token_hash, created_at) VALUES ('old', ?, 1.0)",
                 (hash_token("slk_an-old-token-0123456789"),))
    conn.execute("INSERT INTO objects (id, user_id, kind, object_key, content_type, size, sha256, created_at)"
                 " VALUES ('abc', 1, 'screenshot', 'screenshots/abc.png', 'image/png', 10, 'x', 2.0)")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()


def test_a_version_1_database_is_migrated_in_place(tmp_path):
    make_v1_database(tmp_path / DB_FILENAME)
    db = Database.in_data_dir(tmp_path)
    try:
        assert db.query_one("PRAGMA user_version")[0] == dbmod.SCHEMA_VERSION
        assert authenticate(db, "slk_an-old-token-0123456789").name == "old"
        assert db.query_one("SELECT size FROM objects WHERE id = 'abc'")["size"] == 10
        tables = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "ingest_days" in tables
    finally:
        db.close()


def test_a_newer_database_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    conn.execute(f"PRAGMA user_version={dbmod.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this server"):
        Database.in_data_dir(tmp_path)
