"""Users and bearer tokens. Only the sha256 of a token is stored; a token is never logged or written to a file.

A user has any number of tokens (table ``tokens``), each with an optional expiry; ``user token NAME`` adds one
(the old ones stay valid unless ``--revoke-others``), ``token revoke NAME`` removes them all. A disabled user keeps
its tokens and objects but every request with one of its tokens is refused (401) until it is enabled again;
deleting a user removes its objects from storage too.

Threading: plain functions over a `Database` (safe from any thread).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .db import Database

log = logging.getLogger(__name__)

_NAME_MAX = 64
_DURATION_RE = re.compile(r"^([0-9]{1,6})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class UserError(ValueError):
    """Bad user name, unknown user, duplicate user."""


class TokenRejected(Exception):
    """A token that names a user but may not be used now (expired, user disabled); ``code`` for the API error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class User:
    id: int
    name: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "slk_" + secrets.token_urlsafe(32)


def parse_duration(text: str) -> float:
    """``90d``, ``12h``, ``30m``, ``2w``, ``45s`` -> seconds."""
    m = _DURATION_RE.match(text.strip().lower()) if isinstance(text, str) else None
    if not m or int(m.group(1)) == 0:
        raise UserError(f"invalid duration {text!r}: expected a number and a unit, e.g. 90d, 12h, 30m, 2w")
    return int(m.group(1)) * _UNITS[m.group(2)]


def iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ") if ts else "-"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or len(name) > _NAME_MAX or not name.isprintable() or name != name.strip():
        raise UserError(f"invalid user name {name!r}")
    return name


def _check_token(token: str) -> str:
    if not isinstance(token, str) or len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token:
        raise UserError("token must be at least 16 printable ASCII characters without spaces")
    return token


def _user_id(conn, name: str) -> int:
    row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise UserError(f"no such user {name!r}")
    return row["id"]


def create_user(db: Database, name: str, *, expires_at: float | None = None) -> str:
    """Create user ``name`` and return its new token (shown once; only the hash is kept)."""
    _check_name(name)
    token = new_token()
    now = time.time()
    with db.write() as conn:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise UserError(f"user {name!r} already exists (a new token for it: snaplark-server user token {name})")
        user_id = conn.execute("INSERT INTO users (name, created_at) VALUES (?, ?) RETURNING id", (name, now)).fetchone()[0]
        conn.execute("INSERT INTO tokens (user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
                     (user_id, hash_token(token), now, expires_at))
    return token


def issue_token(db: Database, name: str, *, revoke_others: bool = False, expires_at: float | None = None) -> str:
    """A new token for the existing user ``name``; its other tokens stay valid unless ``revoke_others``."""
    token = new_token()
    with db.write() as conn:
        user_id = _user_id(conn, name)
        if revoke_others:
            conn.execute("DELETE FROM tokens WHERE user_id = ?", (user_id,))
        conn.execute("INSERT INTO tokens (user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
                     (user_id, hash_token(token), time.time(), expires_at))
    return token


def set_user_token(db: Database, name: str, token: str) -> None:
    """Make ``token`` the (only) valid token of user ``name``, creating the user if needed.

    The embedded desktop mode uses this: the app keeps its token in the OS keyring and registers it at start-up.
    """
    _check_name(name)
    _check_token(token)
    digest = hash_token(token)
    now = time.time()
    with db.write() as conn:
        other = conn.execute("SELECT u.name FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
                             (digest,)).fetchone()
        if other is not None and other["name"] != name:
            raise UserError("token already belongs to another user")
        row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        user_id = row["id"] if row else conn.execute("INSERT INTO users (name, created_at) VALUES (?, ?) RETURNING id",
                                                     (name, now)).fetchone()[0]
        conn.execute("DELETE FROM tokens WHERE user_id = ?", (user_id,))
        conn.execute("INSERT INTO tokens (user_id, token_hash, created_at) VALUES (?, ?, ?)", (user_id, digest, now))


# Contract name (CONTRACTS.md): same thing.
ensure_user_token = set_user_token


def rotate_token(db: Database, name: str) -> str:
    """Give user ``name`` (created if missing) a fresh token, revoking the previous ones; return it."""
    token = new_token()
    set_user_token(db, name, token)
    return token


def revoke_token(db: Database, name: str) -> bool:
    """Revoke every token of ``name``; returns False if there is no such user."""
    with db.write() as conn:
        row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            return False
        conn.execute("DELETE FROM tokens WHERE user_id = ?", (row["id"],))
        return True


def set_disabled(db: Database, name: str, disabled: bool) -> None:
    """Disable (every token refused, nothing deleted) or enable user ``name``."""
    with db.write() as conn:
        user_id = _user_id(conn, name)
        conn.execute("UPDATE users SET disabled_at = ? WHERE id = ?", (time.time() if disabled else None, user_id))


def delete_user(db: Database, name: str, storage) -> int:
    """Delete user ``name``, its tokens, sessions and objects -- the stored files too; returns the objects deleted.

    Storage first, then the rows: a crash in between leaves rows pointing at nothing (404 when served) and a
    repeated delete finishes the job; never files without a row that could be found again."""
    with db.write() as conn:
        user_id = _user_id(conn, name)
    objects = db.query("SELECT object_key, poster_key FROM objects WHERE user_id = ?", (user_id,))
    sessions = db.query("SELECT id, object_key, upload_id FROM sessions WHERE user_id = ? AND state = 'open'",
                        (user_id,))
    for s in sessions:
        storage.abort(s["id"], s["object_key"], s["upload_id"])
    for o in objects:
        storage.delete_object(o["object_key"])
        if o["poster_key"]:  # a video's poster (shares.py)
            storage.delete_object(o["poster_key"])
    with db.write() as conn:
        conn.execute("DELETE FROM objects WHERE user_id = ?", (user_id,))
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))  # parts: ON DELETE CASCADE
        conn.execute("DELETE FROM ingest_days WHERE user_id = ?", (user_id,))
        conn.execute("DELETE FROM tokens WHERE user_id = ?", (user_id,))
        conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
    log.info("deleted user %r with %d object(s) and %d open session(s)", name, len(objects), len(sessions))
    return len(objects)


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    disabled: bool
    tokens: int  # not expired
    next_expiry: float | None  # the soonest expiry among them

    @property
    def state(self) -> str:
        return "disabled" if self.disabled else ("active" if self.tokens else "revoked")


def user_infos(db: Database, now: float | None = None) -> list[UserInfo]:
    now = time.time() if now is None else now
    rows = db.query(
        "SELECT u.id, u.name, u.disabled_at IS NOT NULL AS disabled,"
        " (SELECT COUNT(*) FROM tokens t WHERE t.user_id = u.id AND (t.expires_at IS NULL OR t.expires_at > ?))"
        "   AS tokens,"
        " (SELECT MIN(t.expires_at) FROM tokens t WHERE t.user_id = u.id AND t.expires_at > ?) AS next_expiry"
        " FROM users u ORDER BY u.name", (now, now))
    return [UserInfo(r["id"], r["name"], bool(r["disabled"]), r["tokens"], r["next_expiry"]) for r in rows]


def list_users(db: Database) -> list[tuple[str, bool]]:
    """(name, has_a_usable_token) for every user, sorted by name."""
    return [(u.name, u.state == "active") for u in user_infos(db)]


def check_token(db: Database, token: str | None, now: float | None = None) -> User | None:
    """The user of ``token``; None for an unknown token; `TokenRejected` for an expired one or a disabled user."""
    if not token:
        return None
    digest = hash_token(token)
    row = db.query_one("SELECT u.id, u.name, u.disabled_at, t.token_hash, t.expires_at FROM tokens t"
                       " JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?", (digest,))
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        return None
    now = time.time() if now is None else now
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise TokenRejected("token_expired", f"this token expired at {iso(row['expires_at'])}; the server's admin "
                            f"can issue a new one (snaplark-server user token {row['name']})")
    if row["disabled_at"] is not None:
        raise TokenRejected("user_disabled", f"user {row['name']!r} is disabled on this server")
    return User(id=row["id"], name=row["name"])


def authenticate(db: Database, token: str | None) -> User | None:
    """The user of a usable ``token``, else None (unknown, expired, disabled)."""
    try:
        return check_token(db, token)
    except TokenRejected:
        return None


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
