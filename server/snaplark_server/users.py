"""Users and bearer tokens. Only the sha256 of a token is stored; a token is never logged or written to a file."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from .db import Database

_NAME_MAX = 64


class UserError(ValueError):
    """Bad user name, unknown user, duplicate user."""


@dataclass(frozen=True)
class User:
    id: int
    name: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "slk_" + secrets.token_urlsafe(32)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or len(name) > _NAME_MAX or not name.isprintable() or name != name.strip():
        raise UserError(f"invalid user name {name!r}")
    return name


def _check_token(token: str) -> str:
    if not isinstance(token, str) or len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token:
        raise UserError("token must be at least 16 printable ASCII characters without spaces")
    return token


def create_user(db: Database, name: str) -> str:
    """Create user ``name`` and return its new token (shown once; only the hash is kept)."""
    _check_name(name)
    token = new_token()
    with db.write() as conn:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise UserError(f"user {name!r} already exists")
        conn.execute(
            "INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, ?)", (name, hash_token(token), time.time())
        )
    return token


def set_user_token(db: Database, name: str, token: str) -> None:
    """Make ``token`` the (only) valid token of user ``name``, creating the user if needed.

    The embedded desktop mode uses this: the app keeps its token in the OS keyring and registers it at start-up.
    """
    _check_name(name)
    _check_token(token)
    digest = hash_token(token)
    with db.write() as conn:
        other = conn.execute("SELECT name FROM users WHERE token_hash = ?", (digest,)).fetchone()
        if other is not None and other["name"] != name:
            raise UserError("token already belongs to another user")
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            conn.execute("UPDATE users SET token_hash = ? WHERE name = ?", (digest, name))
        else:
            conn.execute(
                "INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, ?)", (name, digest, time.time())
            )


# Contract name (CONTRACTS.md): same thing.
ensure_user_token = set_user_token


def rotate_token(db: Database, name: str) -> str:
    """Give user ``name`` (created if missing) a fresh token, revoking the previous one; return it."""
    token = new_token()
    set_user_token(db, name, token)
    return token


def revoke_token(db: Database, name: str) -> bool:
    """Revoke the token of ``name``; returns False if there is no such user."""
    with db.write() as conn:
        cur = conn.execute("UPDATE users SET token_hash = NULL WHERE name = ?", (name,))
        return cur.rowcount > 0


def list_users(db: Database) -> list[tuple[str, bool]]:
    """(name, has_active_token) for every user, sorted by name."""
    rows = db.query("SELECT name, token_hash IS NOT NULL AS active FROM users ORDER BY name")
    return [(r["name"], bool(r["active"])) for r in rows]


def authenticate(db: Database, token: str | None) -> User | None:
    if not token:
        return None
    digest = hash_token(token)
    row = db.query_one("SELECT id, name, token_hash FROM users WHERE token_hash = ?", (digest,))
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        return None
    return User(id=row["id"], name=row["name"])


# --- helpers for the desktop app's embedded mode (take a data dir, open and close the DB) -------------------------


def register_token(data_dir: Path | str, name: str, token: str) -> None:
    """Register ``token`` (kept by the caller, e.g. in the OS keyring) for user ``name`` in ``data_dir``."""
    db = Database.in_data_dir(data_dir)
    try:
        set_user_token(db, name, token)
    finally:
        db.close()


def ensure_local_user(data_dir: Path | str, name: str = "local") -> str:
    """Return a fresh token for user ``name`` in ``data_dir`` (creating the user; the previous token is revoked).

    Nothing is written to disk but the token's hash: the caller must keep the token (OS keyring).
    """
    db = Database.in_data_dir(data_dir)
    try:
        return rotate_token(db, name)
    finally:
        db.close()
