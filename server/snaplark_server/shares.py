"""Share pages' business rules over `Database` + storage: what a link shows (`ObjectView`), the video's duration,
size and poster measured after finalize (a background job, media_jobs.py), and the owner's actions -- delete (a tombstone row: every link answers
410 Gone) and trim (frame-accurate: the edge before the first keyframe re-encoded, the rest stream-copied; the same links
serve the trimmed video).

Threading contract: `ShareService` methods are blocking and called from worker threads. Trim and delete of one
object are serialised by that object's lock; the database serialises writers. Readers never take the lock: a
reader that races a trim streams either the old or the new bytes (local files are replaced by rename; an open
file keeps its bytes). A trim stores its bytes beside the object first (the upload, with no lock), then updates the
row and swaps the bytes in (a rename locally, a copy inside S3) in one write transaction: both or neither.
"""

from __future__ import annotations

import logging
import math
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .audit import AuditLog
from .config import ServerConfig
from .db import Database
from .errors import ApiError, invalid
from .media import MediaError, new_spool_path, open_stored, poster_jpeg, probe, spool_bytes, spool_file, trim
from .media_jobs import PermanentJobError
from .storage import StorageBackend
from .users import User

log = logging.getLogger(__name__)

POSTER_CONTENT_TYPE = "image/jpeg"
TRIM_FORMATS = {".webm": "webm", ".mp4": "mp4", ".mkv": "matroska"}
TITLE_MAX = 200  # characters of an owner-set title
# control, format (e.g. U+202E right-to-left override: a spoofed title), surrogate, private-use, unassigned, and the
# line/paragraph separators U+2028/U+2029 (a line break: a title is one line)
TITLE_FORBIDDEN_CATEGORIES = {"Cc": "a control character", "Cf": "an invisible formatting character",
                              "Cs": "a surrogate", "Co": "a private-use character", "Cn": "an unassigned character",
                              "Zl": "a line separator", "Zp": "a paragraph separator"}


def check_title(value: Any) -> str | None:
    """The title an owner may set: one line of at most TITLE_MAX characters (NFC, outer spaces removed), no
    control or invisible formatting characters; None / "" = no title (the page shows the date again). Any other
    value is a 422 naming what is wrong and where."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"title: expected a string (or null to remove the title), got {type(value).__name__}")
    title = unicodedata.normalize("NFC", value).strip()
    if not title:
        return None
    if len(title) > TITLE_MAX:
        raise invalid(f"title: {len(title)} characters; at most {TITLE_MAX}")
    for i, ch in enumerate(title):
        what = TITLE_FORBIDDEN_CATEGORIES.get(unicodedata.category(ch))
        if what is not None:
            raise invalid(f"title: character {i + 1} is {what} (U+{ord(ch):04X}); a title is one line of "
                          "visible text")
    return title


@dataclass(frozen=True)
class ObjectView:
    """One stored object as the routes need it (a row of ``objects``)."""

    id: str
    kind: str  # "video" | "screenshot"
    user_id: int
    key: str
    ext: str  # "webm", "mp4", "png", ...
    content_type: str
    size: int
    sha256: str
    created_at: float
    title: str | None
    duration: float | None
    width: int | None
    height: int | None
    poster_key: str | None
    poster_size: int | None
    poster_sha256: str | None
    version: int
    deleted_at: float | None
    expires_at: float | None = None  # retention.py
    deleted_reason: str | None = None  # "owner" | "expired" (None: deleted before the reason was kept)

    @classmethod
    def from_row(cls, row) -> "ObjectView":
        return cls(id=row["id"], kind=row["kind"], user_id=row["user_id"], key=row["object_key"],
                   ext=row["object_key"].rsplit(".", 1)[-1], content_type=row["content_type"], size=row["size"],
                   sha256=row["sha256"] or "", created_at=row["created_at"], title=row["title"],
                   duration=row["duration"], width=row["width"], height=row["height"], poster_key=row["poster_key"],
                   poster_size=row["poster_size"], poster_sha256=row["poster_sha256"], version=row["version"],
                   deleted_at=row["deleted_at"], expires_at=row["expires_at"], deleted_reason=row["deleted_reason"])

    def gone_reason(self, now: float) -> str | None:
        """None while the links work; "expired" from the moment ``expires_at`` passes (before the cleanup loop has
        deleted the bytes), "deleted" after an owner's delete."""
        if self.deleted_at is not None:
            return "expired" if self.deleted_reason == "expired" else "deleted"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return None

    @property
    def route(self) -> str:
        return "v" if self.kind == "video" else "s"

    @property
    def etag(self) -> str:
        return f'"{self.sha256 or self.id}"' if self.version == 0 else f'"{self.sha256 or self.id}-{self.version}"'

    @property
    def poster_etag(self) -> str:
        return f'"{self.poster_sha256 or self.id}-poster"'

    def display_title(self) -> str:
        if self.title:
            return self.title
        what = "Recording" if self.kind == "video" else "Screenshot"
        return f"{what} {datetime.fromtimestamp(self.created_at, tz=timezone.utc):%Y-%m-%d %H:%M} UTC"

    def download_name(self) -> str:
        what = "recording" if self.kind == "video" else "screenshot"
        return f"{what}-{datetime.fromtimestamp(self.created_at, tz=timezone.utc):%Y-%m-%d_%H-%M-%S}.{self.ext}"


def poster_key_for(video_key: str) -> str:
    """The poster is stored next to its video: ``videos/<id>.webm`` -> ``videos/<id>.jpg``."""
    return video_key.rsplit(".", 1)[0] + ".jpg"


class ShareService:
    """See the module docstring for the threading contract."""

    def __init__(self, config: ServerConfig, db: Database, storage: StorageBackend,
                 clock: Callable[[], float] = time.time, audit: AuditLog | None = None) -> None:
        self.config = config
        self.db = db
        self.storage = storage
        self.clock = clock
        self.audit = audit if audit is not None else AuditLog(config.data_dir, clock)  # audit.py (opened lazily)

    def _lock(self, object_id: str):
        """The object's lock (measure, delete, trim, expiry): from the database, so it holds across every instance
        on one PostgreSQL database (pg.py) as well as between the threads of one process (SQLite)."""
        return self.db.lock(f"object:{object_id}")

    def find(self, kind: str, object_id: str) -> ObjectView | None:
        row = self.db.query_one("SELECT * FROM objects WHERE id = ? AND kind = ?", (object_id, kind))
        return ObjectView.from_row(row) if row is not None else None

    def _owned(self, user: User, object_id: str) -> ObjectView:
        row = self.db.query_one("SELECT * FROM objects WHERE id = ?", (object_id,))
        if row is None or row["user_id"] != user.id:  # another user's object: the same answer as none at all
            raise ApiError(404, "object_not_found", "no such object")
        return ObjectView.from_row(row)

    # --- measured after finalize (a background job: media_jobs.py) ---------------------------------------------

    def measure_video(self, object_id: str) -> None:
        """Duration, width, height and the poster of a finalized video, run by the media job worker. A video PyAV
        cannot read keeps its link (its page then shows no poster and no duration): `PermanentJobError`."""
        view = self.find("video", object_id)
        if view is None or view.deleted_at is not None or view.poster_key is not None:
            return
        with self._lock(object_id):
            view = self.find("video", object_id)  # a delete or a trim may have run while the job waited
            if view is None or view.deleted_at is not None or view.poster_key is not None:
                return
            try:
                self._measure(view)
            except MediaError as exc:
                raise PermanentJobError(f"video {object_id}: no poster or duration ({exc})") from None

    def _measure(self, view: ObjectView, local_path: Path | None = None) -> None:
        def source():
            if local_path is not None:
                return str(local_path)
            return open_stored(lambda a, b: self.storage.iter_range(view.key, a, b), view.size)

        started = time.monotonic()
        info = probe(source())
        jpeg = poster_jpeg(source())
        key = poster_key_for(view.key)
        spooled = spool_bytes(self.storage.spool_dir, jpeg, want_md5=self.storage.wants_md5)
        try:
            self.storage.put_object(key, spooled, POSTER_CONTENT_TYPE)
        finally:
            spooled.discard()
        with self.db.write() as conn:
            conn.execute("UPDATE objects SET duration = ?, width = ?, height = ?, poster_key = ?, poster_size = ?,"
                         " poster_sha256 = ? WHERE id = ?",
                         (info.duration, info.width, info.height, key, spooled.size, spooled.sha256, view.id))
        log.info("video %s: %.2f s, %sx%s, poster %d bytes (measured in %.2f s)", view.id, info.duration or 0,
                 info.width, info.height, spooled.size, time.monotonic() - started)

    # --- owner actions ----------------------------------------------------------------------------------------

    def delete(self, user: User, object_id: str) -> dict[str, Any]:
        """Tombstone first (every link answers 410 at once), then the stored bytes. Idempotent in effect, not in
        answer: the object stays deleted and a repeat removes again whatever bytes a failed storage step left, but
        only the delete that deleted it answers 200; a repeat (or an expired object) answers 410 -- ``gone`` with
        the first ``deletedAt``, or ``expired`` -- which clients read as "deleted already"."""
        view = self._owned(user, object_id)
        with self._lock(object_id):
            view = self._owned(user, object_id)
            deleted_at = view.deleted_at or self.clock()
            if view.deleted_at is None:
                with self.db.write() as conn:
                    conn.execute("UPDATE objects SET deleted_at = ?, deleted_reason = 'owner' WHERE id = ?",
                                 (deleted_at, object_id))
            self.storage.delete_object(view.key)
            if view.poster_key:
                self.storage.delete_object(view.poster_key)
        if view.deleted_at is not None:
            reason = view.gone_reason(self.clock())
            log.info("%s %s: delete repeated (%s already)", view.kind, object_id, reason)
            self.audit.record("object.delete", user=user.name, id=object_id, kind=view.kind, key=view.key,
                              repeat=True)
            if reason == "expired":
                raise ApiError(410, "expired", "this link has expired", deletedAt=_iso(deleted_at))
            raise ApiError(410, "gone", "this link was deleted already", deletedAt=_iso(deleted_at))
        log.info("%s %s deleted by its owner", view.kind, object_id)
        self.audit.record("object.delete", user=user.name, id=object_id, kind=view.kind, key=view.key)
        return {"id": object_id, "deleted": True, "deletedAt": _iso(deleted_at)}

    def delete_expired(self) -> int:
        """Delete every object whose expiry has passed (the cleanup loop, retention.py): tombstone first, reason
        'expired', then its bytes and poster. Returns how many."""
        now = self.clock()
        rows = self.db.query("SELECT id FROM objects WHERE expires_at IS NOT NULL AND expires_at <= ?"
                             " AND deleted_at IS NULL ORDER BY expires_at", (now,))
        count = 0
        for row in rows:
            with self._lock(row["id"]):
                fresh = self.db.query_one("SELECT * FROM objects WHERE id = ?", (row["id"],))
                if fresh is None or fresh["deleted_at"] is not None:
                    continue  # deleted by its owner meanwhile
                view = ObjectView.from_row(fresh)
                with self.db.write() as conn:
                    conn.execute("UPDATE objects SET deleted_at = ?, deleted_reason = 'expired' WHERE id = ?"
                                 " AND deleted_at IS NULL", (now, view.id))
                self.storage.delete_object(view.key)
                if view.poster_key:
                    self.storage.delete_object(view.poster_key)
            log.info("%s %s expired (at %s)", view.kind, view.id, _iso(view.expires_at))
            self.audit.record("object.expire", id=view.id, kind=view.kind, key=view.key, user_id=view.user_id)
            count += 1
        return count

    def set_title(self, user: User, object_id: str, body: Any) -> dict[str, Any]:
        """The owner's title (``PATCH /objects/<id>`` ``{"title": ...}``): the page, og:title and oEmbed use it."""
        if not isinstance(body, dict):
            raise invalid("expected a JSON object")
        extra = sorted(k for k in body if k != "title")
        if extra:
            raise invalid(f"unknown field(s): {', '.join(repr(k)[:40] for k in extra[:5])}; only 'title' can be set")
        if "title" not in body:
            raise invalid("missing field: title")
        title = check_title(body["title"])
        view = self._owned(user, object_id)
        with self._lock(object_id):
            view = self._owned(user, object_id)
            gone = view.gone_reason(self.clock())
            if gone is not None:
                raise ApiError(410, "expired" if gone == "expired" else "gone", f"this link was {gone}")
            with self.db.write() as conn:
                conn.execute("UPDATE objects SET title = ? WHERE id = ?", (title, object_id))
        self.audit.record("object.title", user=user.name, id=object_id, kind=view.kind, title=title)
        fresh = self.find(view.kind, object_id)
        return {"id": object_id, "title": title, "displayTitle": fresh.display_title()}

    def trim(self, user: User, object_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("expected a JSON object")
        extra = sorted(k for k in body if k not in ("start", "end"))
        if extra:
            raise invalid(f"unknown field(s): {', '.join(repr(k)[:40] for k in extra[:5])}")
        start, end = body.get("start", 0), body.get("end")
        for name, value in (("start", start), ("end", end)):
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                      or not math.isfinite(value) or value < 0):
                raise invalid(f"{name}: expected a non-negative number of seconds")
        view = self._owned(user, object_id)
        if view.kind != "video":
            raise ApiError(404, "object_not_found", "no such video")
        with self._lock(object_id):
            view = self._owned(user, object_id)
            gone = view.gone_reason(self.clock())
            if gone is not None:
                raise ApiError(410, "expired" if gone == "expired" else "gone", f"this video was {gone}")
            if end is None:
                end = view.duration if view.duration is not None else math.inf
            if end <= start:
                raise invalid(f"end ({end}) must be after start ({start})")
            if view.duration is not None and start >= view.duration:
                raise invalid(f"start ({start}) is at or after the end of the video ({view.duration:.3f} s)")
            suffix = "." + view.ext
            fmt = TRIM_FORMATS.get(suffix)
            if fmt is None:
                raise ApiError(422, "cannot_trim", f"videos stored as {suffix} cannot be trimmed")
            dest = new_spool_path(self.storage.spool_dir, suffix)
            try:
                try:
                    result = trim(open_stored(lambda a, b: self.storage.iter_range(view.key, a, b), view.size),
                                  dest, float(start), float(end), fmt)
                except MediaError as exc:
                    raise ApiError(422, "cannot_trim", f"the video could not be cut: {exc}") from None
                spooled = spool_file(dest, want_md5=self.storage.wants_md5)
                size, sha256 = spooled.size, spooled.sha256
                # the slow store (S3: the upload) beside the object, before the write lock (on SQLite that lock
                # stops every query of the server); then the row and the quick swap (a rename, a copy inside S3)
                # in one transaction: a failed update replaces nothing, a failed swap rolls the row back (stored
                # first, a failed update once left new bytes under the old size: every GET cut short)
                staged = self.storage.stage_object(view.key, spooled, view.content_type)
                try:
                    with self.db.write() as conn:
                        conn.execute("UPDATE objects SET size = ?, sha256 = ?, version = version + 1,"
                                     " poster_key = NULL WHERE id = ?", (size, sha256, object_id))
                        self.storage.commit_staged(staged)  # the same key: the same links
                except BaseException:
                    self.storage.discard_staged(staged)
                    raise
            finally:
                dest.unlink(missing_ok=True)
            fresh = self.find("video", object_id)
            try:
                self._measure(fresh)
            except MediaError as exc:
                log.warning("video %s: trimmed, but no poster or duration (%s)", object_id, exc)
            fresh = self.find("video", object_id)
        log.info("video %s trimmed to [%.3f, %.3f) (asked [%s, %s))", object_id, result.start, result.end, start, end)
        self.audit.record("video.trim", user=user.name, id=object_id, key=view.key, start=result.start,
                          end=result.end, size=fresh.size, sha256=fresh.sha256)
        return {"id": object_id, "requested": {"start": start, "end": None if math.isinf(end) else end},
                "start": result.start, "end": result.end, "duration": fresh.duration, "size": fresh.size,
                "keyframeCut": False, "method": result.method, "reencodedUntil": result.reencoded_until,
                **({"reason": result.reason} if result.reason else {})}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
