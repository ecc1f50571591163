"""Upload sessions, parts, finalize, screenshots: the server's business rules over `Database` + storage.

Threading contract: `UploadService` methods are blocking and are called from worker threads (never from the event
loop). They may run concurrently; everything touching one session holds that session's lock, and the database
serialises writers.  A part is acknowledged (the HTTP answer is sent) only after its bytes are durable in storage
and its row is committed, so a crash after the answer loses nothing.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any, Callable

from . import errors, retention
from .audit import AuditLog
from .config import ServerConfig
from .db import Database
from .errors import ApiError, invalid, session_not_found
from .media_jobs import MediaJobs
from .multipart_stream import SpooledFile
from .quotas import UserLimits
from .storage import StorageBackend, StoredPart, UploadLost, WholeFileMismatch
from .screenshots import ScreenshotUploads
from .upload_rules import (CHUNK_OPTIONAL, CHUNK_REQUIRED, FINALIZE_OPTIONAL, FINALIZE_REQUIRED, HEAD_BYTES,
                           SESSION_ID_RE, SHA256_RE, VIDEO_CONTAINERS, VIDEO_CONTENT_TYPE, _check_keys, _is_int,
                           _is_number, check_container, iso_utc, parse_chunk_index, validate_init, video_container)
from .users import User

log = logging.getLogger(__name__)


class UploadService(ScreenshotUploads):
    """See the module docstring for the threading contract."""

    offers_direct_parts = False  # set by direct_parts.register_direct_part_routes when the storage can presign

    def __init__(self, config: ServerConfig, db: Database, storage: StorageBackend,
                 clock: Callable[[], float] = time.time, audit: AuditLog | None = None,
                 media_jobs: MediaJobs | None = None) -> None:
        """``media_jobs``: finalize enqueues the measurement of the video (duration, poster) in its own transaction
        and wakes the worker; the answer does not wait for it (media_jobs.py)."""
        self.config = config
        self.media_jobs = media_jobs
        self.db = db
        self.storage = storage
        self.clock = clock
        self.audit = audit if audit is not None else AuditLog(config.data_dir, clock)  # audit.py (opened lazily)
        self.limits = UserLimits(config, db, clock)

    # --- helpers ---------------------------------------------------------------------------------------------

    def _lock(self, session_id: str):
        """The session's lock (re-entrant: expiry can run from code that already holds it). The database provides
        it: process memory with SQLite, an advisory lock held across every instance with PostgreSQL (pg.py)."""
        return self.db.lock(f"session:{session_id}")

    def _forget_lock(self, session_id: str) -> None:
        self.db.forget_lock(f"session:{session_id}")

    def _is_expired(self, row, now: float) -> bool:
        return row["state"] == "open" and now - row["last_activity"] > self.config.session_idle_expiry

    def _session(self, user: User, session_id: Any) -> Any:
        """The caller's session row; 404 for unknown, another user's, or expired (expired ones are cleaned up)."""
        if not isinstance(session_id, str) or not SESSION_ID_RE.match(session_id):
            raise session_not_found()
        row = self.db.query_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if row is None or row["user_id"] != user.id:
            raise session_not_found()
        if self._is_expired(row, self.clock()):
            self._expire(row)
            fresh = self.db.query_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
            if fresh is None or self._is_expired(fresh, self.clock()):
                raise session_not_found()
            return fresh  # touched by a concurrent request in the meantime: still alive
        return row

    def _expire(self, row, *, force: bool = False) -> None:
        """Abort an idle session (``force``: also when not idle, e.g. its storage upload vanished)."""
        with self._lock(row["id"]):  # never while another request stores a part of this session
            fresh = self.db.query_one("SELECT * FROM sessions WHERE id = ?", (row["id"],))
            if fresh is None or fresh["state"] != "open" or not (force or self._is_expired(fresh, self.clock())):
                return
            # the row first: only the instance whose DELETE removed it aborts the storage upload. With PostgreSQL the
            # session lock dies with its connection, unnoticed until the next query; aborting first, an instance whose
            # connection was cut here aborted, failed to delete, and the next leader aborted the same session again
            with self.db.write() as conn:
                removed = conn.execute("DELETE FROM sessions WHERE id = ? AND state = 'open'", (fresh["id"],)).rowcount
            if removed:
                try:
                    self.storage.abort(fresh["id"], fresh["object_key"], fresh["upload_id"])
                except Exception:  # storage trouble must not keep the row alive forever: logged, the row is gone
                    log.exception("aborting expired session %s failed", fresh["id"])
            self.storage.discard_parts(fresh["id"])
        self._forget_lock(row["id"])

    def _touch(self, session_id: str) -> float:
        now = self.clock()
        with self.db.write() as conn:
            conn.execute("UPDATE sessions SET last_activity = ? WHERE id = ?", (now, session_id))
        return now

    def _parts(self, session_id: str) -> list[StoredPart]:
        rows = self.db.query("SELECT idx, size, sha256, etag FROM parts WHERE session_id = ? ORDER BY idx", (session_id,))
        return [StoredPart(r["idx"], r["size"], r["sha256"], r["etag"]) for r in rows]

    # --- videos ----------------------------------------------------------------------------------------------

    def init_session(self, user: User, body: Any) -> dict[str, Any]:
        metadata = validate_init(body)
        retention.expires_in(metadata.get(retention.FIELD), self.config)  # a bad expiresIn: 422 now, not at finalize
        session_id = secrets.token_urlsafe(18)
        video_id = secrets.token_urlsafe(12)
        ext, content_type = video_container(metadata)
        key = f"videos/{video_id}{ext}"
        self.limits.check_open_sessions(None, user.id)
        with self._lock(session_id):  # held until the row exists: `remove_orphans` must not take its directory
            upload_id = self.storage.start_upload(session_id, key, content_type)
            now = self.clock()
            try:
                with self.db.write() as conn:
                    self.limits.check_open_sessions(conn, user.id)  # exact: counted in the inserting transaction
                    conn.execute(
                        "INSERT INTO sessions (id, user_id, state, created_at, last_activity, metadata, upload_id,"
                        " video_id, object_key) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?)",
                        (session_id, user.id, now, now, json.dumps(metadata), upload_id, video_id, key),
                    )
            except BaseException:
                try:
                    self.storage.abort(session_id, key, upload_id)
                except Exception:
                    log.exception("aborting the storage upload of refused session %s failed", session_id)
                raise
        self.audit.record("video.init", user=user.name, sessionId=session_id, id=video_id, key=key,
                          filename=metadata["filename"], codec=metadata["codec"])
        # extension: the part limits, so a client may stream parts smaller than 5 MiB while recording; directParts
        # when a client may PUT parts straight to storage (direct_parts.py)
        return {"sessionId": session_id, "minPartSize": self.config.min_part_size, "maxParts": self.config.max_parts,
                **({"directParts": True} if self.offers_direct_parts else {})}

    def store_chunk(self, user: User, fields: dict[str, str], spooled: SpooledFile | None) -> dict[str, Any]:
        """Store one part; the spool file is consumed (stored or deleted) in every case."""
        try:
            _check_keys(fields, CHUNK_REQUIRED, CHUNK_OPTIONAL)
            if spooled is None:
                raise invalid("missing file field 'chunk'")
            index = parse_chunk_index(fields["chunkIndex"], self.config.max_parts)
            claimed = fields.get("sha256")
            if claimed is not None and not SHA256_RE.match(claimed):
                raise invalid("sha256: expected 64 lowercase hex digits")
            if spooled.size == 0:
                raise invalid("chunk: empty part")
            session_id = fields["sessionId"]
            row = self._session(user, session_id)
            if claimed is not None and claimed != spooled.sha256:
                raise ApiError(422, "checksum_mismatch", f"sha256 of part {index} does not match its bytes",
                               chunkIndex=index, expected=claimed, actual=spooled.sha256)
            with self._lock(session_id):
                row = self._session(user, session_id)  # re-check under the lock (finalize / expiry may have run)
                answer = {"received": True, "chunkIndex": index, "sha256": spooled.sha256, "size": spooled.size}
                if row["state"] == "finalized":
                    held = self.db.query_one("SELECT sha256 FROM parts WHERE session_id = ? AND idx = ?",
                                             (session_id, index))
                    if held is not None and held["sha256"] == spooled.sha256:
                        return answer  # a harmless repeat of an acknowledged part (e.g. after a timeout)
                    raise ApiError(409, "session_finalized", "the session is already finalized")
                held = self.db.query_one("SELECT size FROM parts WHERE session_id = ? AND idx = ?", (session_id, index))
                self.limits.check_bytes(user.id, spooled.size, held["size"] if held is not None else 0)
                try:
                    etag = self.storage.store_part(session_id, row["object_key"], row["upload_id"], index, spooled)
                except UploadLost:  # as /status does: the session is gone (404) and the client starts it again
                    self.drop_lost_session(row)
                    raise session_not_found() from None
                self.count_part(user, session_id, index, spooled.size, spooled.sha256, etag, spooled.head)
                return answer
        finally:
            if spooled is not None:
                spooled.discard()  # no-op when the storage already took the file

    # --- the session rules for another route to the same parts (direct_parts.py) ------------------------------

    def session_lock(self, session_id: str):
        """The session's lock (see ``_lock``): everything that touches the session's parts holds it."""
        return self._lock(session_id)

    def session_row(self, user: User, session_id: Any) -> Any:
        """The caller's session row (404 for unknown, another user's, or expired)."""
        return self._session(user, session_id)

    def drop_lost_session(self, row) -> None:
        """The storage lost the session's upload (aborted elsewhere): forget the session."""
        self._expire(row, force=True)

    def count_part(self, user: User, session_id: str, index: int, size: int, sha256: str, etag: str | None,
                   head: bytes | None) -> None:
        """Record a part the storage holds (the caller holds the session's lock): the chunk path after storing its
        bytes, the direct path (direct_parts.py) after ListParts confirmed them."""
        now = self.clock()
        with self.db.write() as conn:
            self.limits.record_ingest(conn, user.id, size)
            conn.execute(
                "INSERT INTO parts (session_id, idx, size, sha256, etag, received_at, head)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, idx) DO UPDATE SET size = excluded.size,"
                " sha256 = excluded.sha256, etag = excluded.etag, received_at = excluded.received_at,"
                " head = excluded.head",
                (session_id, index, size, sha256, etag, now, None if head is None else head[:HEAD_BYTES]),
            )
            conn.execute("UPDATE sessions SET last_activity = ? WHERE id = ?", (now, session_id))

    def status(self, user: User, session_id: str) -> dict[str, Any]:
        row = self._session(user, session_id)
        with self._lock(session_id):
            row = self._session(user, session_id)
            parts = self._parts(session_id)
            if row["state"] == "open":
                held = self.storage.list_parts(session_id, row["object_key"], row["upload_id"])
                if held is None:  # the storage lost the upload (aborted elsewhere): the session is gone
                    self._expire(row, force=True)
                    raise session_not_found()
                parts = [p for p in parts if held.get(p.index) == p.size]
                last = self._touch(session_id)
                expires = iso_utc(last + self.config.session_idle_expiry)
            else:
                expires = None
        return {
            "sessionId": session_id,
            "state": row["state"],
            "parts": [{"chunkIndex": p.index, "size": p.size, "sha256": p.sha256} for p in parts],
            "expiresAt": expires,
            **({"directParts": True} if self.offers_direct_parts and row["state"] == "open" else {}),
        }

    def finalize(self, user: User, body: Any, url_for: Callable[[str, str], str]) -> dict[str, str]:
        if not isinstance(body, dict):
            raise invalid("expected a JSON object")
        _check_keys(body, FINALIZE_REQUIRED, FINALIZE_OPTIONAL)
        session_id = body["sessionId"]
        if not isinstance(session_id, str):
            raise invalid("sessionId: expected a string")
        total = body["totalChunks"]
        if not _is_int(total) or not (1 <= total <= self.config.max_parts):
            raise invalid(f"totalChunks: expected an integer in [1, {self.config.max_parts}]")
        uploaded = body["uploadedChunks"]
        if not isinstance(uploaded, list) or len(uploaded) > self.config.max_parts or not all(_is_int(i) for i in uploaded):
            raise invalid("uploadedChunks: expected a list of integers")
        if any(i < 0 or i >= total for i in uploaded) or len(set(uploaded)) != len(uploaded):
            raise invalid("uploadedChunks: entries must be distinct and within [0, totalChunks)")
        if "duration" in body and body["duration"] is not None and (not _is_number(body["duration"]) or body["duration"] < 0):
            raise invalid("duration: expected a non-negative number")
        if "metadata" in body and body["metadata"] is not None and not isinstance(body["metadata"], dict):
            raise invalid("metadata: expected an object")
        expected = body.get("sha256")
        if expected is not None and (not isinstance(expected, str) or not SHA256_RE.match(expected)):
            raise invalid("sha256: expected 64 lowercase hex digits")
        asked = body.get(retention.FIELD)
        retention.expires_in(asked, self.config)

        row = self._session(user, session_id)
        with self._lock(session_id):
            row = self._session(user, session_id)
            if row["state"] == "finalized":
                obj = self.db.query_one("SELECT object_key, expires_at FROM objects WHERE id = ?", (row["video_id"],))
                return {"key": obj["object_key"], "url": json.loads(row["final_metadata"])["url"],
                        "pageUrl": url_for("v", row["video_id"]), **retention.answer_fields(obj["expires_at"])}
            parts = {p.index: p for p in self._parts(session_id)}
            wanted = range(total)
            missing = sorted({i for i in wanted if i not in parts} | (set(wanted) - set(uploaded)))
            undersized = sorted(i for i in range(total - 1) if i in parts and parts[i].size < self.config.min_part_size)
            if missing or undersized:
                self._touch(session_id)  # the client is active: keep the session alive while it repairs
                msg = f"missing parts {missing}" if missing else ""
                if undersized:
                    msg += ("; " if msg else "") + (
                        f"parts {undersized} are smaller than {self.config.min_part_size} bytes (only the last may be)")
                raise ApiError(409, "incomplete", msg, missing=sorted(set(missing) | set(undersized)),
                               undersized=undersized)
            chosen = [parts[i] for i in wanted]
            ext = "." + row["object_key"].rsplit(".", 1)[-1]
            head = self.db.query_one("SELECT head FROM parts WHERE session_id = ? AND idx = 0", (session_id,))
            try:
                check_container(head["head"], ext)
            except ApiError:
                self._touch(session_id)  # the client may still send a right part 0
                raise
            content_type = VIDEO_CONTAINERS.get(ext, VIDEO_CONTENT_TYPE)
            try:
                assembled = self.storage.complete(session_id, row["object_key"], row["upload_id"], chosen, expected,
                                                  content_type)
            except WholeFileMismatch as exc:
                if exc.parts_discarded:
                    with self.db.write() as conn:
                        conn.execute("DELETE FROM parts WHERE session_id = ?", (session_id,))
                        conn.execute("UPDATE sessions SET upload_id = ?, last_activity = ? WHERE id = ?",
                                     (exc.new_upload_id, self.clock(), session_id))
                raise ApiError(422, "checksum_mismatch",
                               "sha256 of the assembled file does not match"
                               + ("; all parts were discarded, send them again" if exc.parts_discarded else ""),
                               expected=expected, actual=exc.actual, partsDiscarded=exc.parts_discarded) from None
            key = row["object_key"]
            url = self.storage.public_url(key) or url_for("v", key.rsplit("/", 1)[1])
            now = self.clock()
            final_meta = {"url": url, "duration": body.get("duration"), "metadata": body.get("metadata")}
            lifetime = retention.expires_in(asked if asked is not None else json.loads(row["metadata"]).get(
                retention.FIELD), self.config)  # finalize's expiresIn, else init's, else the server's default
            expiry = retention.expires_at(now, lifetime)
            with self.db.write() as conn:
                conn.execute(
                    "UPDATE sessions SET state = 'finalized', total_chunks = ?, size = ?, sha256 = ?, duration = ?,"
                    " final_metadata = ?, finalized_at = ?, last_activity = ? WHERE id = ?",
                    (total, assembled.size, assembled.sha256, body.get("duration"), json.dumps(final_meta), now, now,
                     session_id),
                )
                conn.execute("DELETE FROM parts WHERE session_id = ? AND idx >= ?", (session_id, total))
                conn.execute(
                    "INSERT INTO objects (id, user_id, kind, object_key, content_type, size, sha256, created_at,"
                    " expires_at) VALUES (?, ?, 'video', ?, ?, ?, ?, ?, ?)",
                    (row["video_id"], user.id, key, content_type, assembled.size, assembled.sha256 or "", now, expiry),
                )
                if self.media_jobs is not None:
                    self.media_jobs.enqueue(conn, row["video_id"])
            self.storage.discard_parts(session_id)
            self.audit.record("video.finalize", user=user.name, sessionId=session_id, id=row["video_id"], key=key,
                              size=assembled.size, sha256=assembled.sha256, parts=total, url=url)
        self._forget_lock(session_id)
        if self.media_jobs is not None:
            self.media_jobs.wake()
        # extensions: pageUrl, the share page (the seed's url stays the file itself); expiresAt when it expires
        return {"key": key, "url": url, "pageUrl": url_for("v", row["video_id"]), **retention.answer_fields(expiry)}

    def cleanup_expired(self) -> int:
        """Abort and forget every open session idle longer than the expiry; returns how many."""
        cutoff = self.clock() - self.config.session_idle_expiry
        rows = self.db.query("SELECT * FROM sessions WHERE state = 'open' AND last_activity < ?", (cutoff,))
        count = 0
        for row in rows:
            with self._lock(row["id"]):
                fresh = self.db.query_one("SELECT * FROM sessions WHERE id = ?", (row["id"],))
                if fresh is not None and self._is_expired(fresh, self.clock()):
                    self._expire(fresh)
                    count += 1
        return count

    def remove_orphans(self) -> int:
        """Discard the local part directories of sessions that are not open in the database (no row: a crash or a
        full disk between creating the directory and committing the row; finalized: a crash before the parts were
        discarded). Runs at start and in the cleanup loop; returns how many were removed."""
        count = 0
        for session_id in self.storage.local_session_ids():
            with self._lock(session_id):  # init and finalize hold it while the directory and the row disagree
                row = self.db.query_one("SELECT state FROM sessions WHERE id = ?", (session_id,))
                if row is None or row["state"] != "open":
                    self.storage.discard_parts(session_id)
                    count += 1
                    removed = True
                else:
                    removed = False
            if removed:
                self._forget_lock(session_id)
        return count

    def lookup_object(self, kind: str, name: str) -> Any | None:
        stem, dot, ext = name.partition(".")
        if not dot or not SESSION_ID_RE.match(stem):
            return None
        row = self.db.query_one("SELECT * FROM objects WHERE id = ? AND kind = ?", (stem, kind))
        if row is None or not row["object_key"].endswith("." + ext):
            return None
        return row


__all__ = ["UploadService", "errors"]
