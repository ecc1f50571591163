"""Per-user quotas and request rate (issue 16): what one user may hold or spend on the server.

Four limits, each off when 0 (`ServerConfig`): ``user_max_open_sessions`` (video upload sessions open at once),
``user_max_bytes_stored`` (screenshots + finished videos + parts of open sessions), ``user_max_bytes_per_day``
(bytes received and stored per UTC day, counted in the ``ingest_days`` table so a restart does not reset it) and
``user_requests_per_second`` with ``user_request_burst`` (a token bucket per user, in memory: a restart refills it).

Going over one answers ``429`` with a JSON error and ``Retry-After`` (seconds), which clients already treat as
"back off and retry" (shared/API.md):

=====================  ===================  ====================================================================
limit                  error code           Retry-After
=====================  ===================  ====================================================================
requests per second    ``rate_limited``     until the bucket holds a token again
open sessions          ``too_many_sessions`` ``SESSIONS_RETRY_AFTER`` (an upload in progress usually ends soon)
bytes per day          ``quota_exceeded``   until the next UTC midnight
bytes stored           ``quota_exceeded``   ``STORED_RETRY_AFTER`` (only deleting objects or a new limit helps)
=====================  ===================  ====================================================================

Every check reads the injected ``clock`` (wall-clock seconds, the one `UploadService` uses), so tests move time
instead of waiting. Byte checks happen twice: before the body is read (refused at once when the user is already at
the limit) and with the body's real size before it is stored. Two concurrent requests of one user may each pass
the second check and together overshoot by at most one body each; the open-session count is exact (checked in the
same database transaction as the insert).

Threading contract: `UserLimits` is used from the event loop (`check_rate`) and from worker threads (the rest);
the buckets are guarded by one lock, everything else goes through `Database`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from .config import ServerConfig
from .db import Database
from .errors import ApiError

SESSIONS_RETRY_AFTER = 10
STORED_RETRY_AFTER = 3600
BUCKETS_MAX = 10_000  # forget full buckets beyond this many users (a full bucket is the same as no bucket)


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def too_many_requests(code: str, message: str, retry_after: float, **extra) -> ApiError:
    after = _retry_after(retry_after)
    return ApiError(429, code, message, headers={"Retry-After": str(after)}, retryAfter=after, **extra)


def utc_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d")


def seconds_to_next_utc_day(ts: float) -> float:
    now = datetime.fromtimestamp(ts, tz=timezone.utc)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second. Not thread-safe (`UserLimits` holds the lock)."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)

    def take(self, now: float) -> float:
        """Take a token: 0.0 if there was one, else the seconds until there will be (nothing taken)."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


@dataclass(frozen=True)
class UserUsage:
    """What a user holds: finished objects and the parts of its open sessions."""
    objects: int
    object_bytes: int
    open_sessions: int
    open_part_bytes: int
    last_upload: float | None
    bytes_today: int

    @property
    def bytes_stored(self) -> int:
        return self.object_bytes + self.open_part_bytes


def user_usage(db: Database, user_id: int, now: float, session_idle_expiry: float | None = None) -> UserUsage:
    """Usage of one user (also what ``snaplark-server user list`` / ``usage`` print)."""
    obj = db.query_one("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes, MAX(created_at) AS last"
                       " FROM objects WHERE user_id = ? AND deleted_at IS NULL", (user_id,))  # tombstones hold nothing
    cutoff = now - session_idle_expiry if session_idle_expiry is not None else float("-inf")
    sess = db.query_one("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND state = 'open'"
                        " AND last_activity >= ?", (user_id, cutoff))
    parts = db.query_one("SELECT COALESCE(SUM(p.size), 0) AS bytes FROM parts p JOIN sessions s ON s.id = p.session_id"
                         " WHERE s.user_id = ? AND s.state = 'open'", (user_id,))
    day = db.query_one("SELECT bytes FROM ingest_days WHERE user_id = ? AND day = ?", (user_id, utc_day(now)))
    return UserUsage(objects=obj["n"], object_bytes=obj["bytes"], open_sessions=sess["n"],
                     open_part_bytes=parts["bytes"], last_upload=obj["last"], bytes_today=day["bytes"] if day else 0)


class UserLimits:
    """The configured per-user limits; see the module docstring (threading contract included)."""

    def __init__(self, config: ServerConfig, db: Database, clock: Callable[[], float]) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[int, TokenBucket] = {}

    # --- request rate ----------------------------------------------------------------------------------------

    def check_rate(self, user_id: int) -> None:
        """Take one request token of ``user_id``; 429 ``rate_limited`` when the bucket is empty."""
        rate = self.config.user_requests_per_second
        if not rate:
            return
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(user_id)
            if bucket is None:
                if len(self._buckets) >= BUCKETS_MAX:
                    self._buckets = {k: b for k, b in self._buckets.items() if not b.full(now)}
                bucket = self._buckets[user_id] = TokenBucket(rate, self.config.user_request_burst, now)
            wait = bucket.take(now)
        if wait:
            raise too_many_requests(
                "rate_limited", f"more than {rate:g} requests per second (burst {self.config.user_request_burst}); "
                f"retry in {_retry_after(wait)} s", wait)

    # --- open sessions ---------------------------------------------------------------------------------------

    def check_open_sessions(self, conn: Any, user_id: int) -> None:
        """429 ``too_many_sessions`` when the user has the allowed number open. Called with ``conn`` inside the
        write transaction that inserts a session (exact), and without one before the storage upload is started."""
        limit = self.config.user_max_open_sessions
        if not limit:
            return
        cutoff = self.clock() - self.config.session_idle_expiry
        sql = "SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND state = 'open' AND last_activity >= ?"
        if conn is not None:  # one counting transaction per user at a time, also across instances (PostgreSQL)
            self.db.serialize(conn, f"user-sessions:{user_id}")
        n = (conn.execute(sql, (user_id, cutoff)).fetchone() if conn is not None
             else self.db.query_one(sql, (user_id, cutoff)))[0]
        if n >= limit:
            raise too_many_requests(
                "too_many_sessions", f"{n} upload sessions are open; this server allows {limit} per user "
                "(user_max_open_sessions): finish one first", SESSIONS_RETRY_AFTER, limit=limit)

    # --- bytes -----------------------------------------------------------------------------------------------

    def check_bytes(self, user_id: int, incoming: int = 0, replaced: int = 0) -> None:
        """429 ``quota_exceeded`` if storing ``incoming`` more bytes (``replaced`` of them replacing bytes already
        held, e.g. a re-sent part) would go over a byte quota. ``incoming=0``: is the user already at a limit
        (checked before a body is read)."""
        stored_limit = self.config.user_max_bytes_stored
        day_limit = self.config.user_max_bytes_per_day
        if not stored_limit and not day_limit:
            return
        now = self.clock()
        usage = user_usage(self.db, user_id, now)
        if day_limit and (usage.bytes_today + incoming > day_limit or (not incoming and usage.bytes_today >= day_limit)):
            raise too_many_requests(
                "quota_exceeded", f"{usage.bytes_today + incoming} bytes today would be over this server's limit of "
                f"{day_limit} bytes per user per day (user_max_bytes_per_day); it resets at 00:00 UTC",
                seconds_to_next_utc_day(now), quota="bytes_per_day", limit=day_limit, used=usage.bytes_today)
        after = usage.bytes_stored - replaced + incoming
        if stored_limit and (after > stored_limit or (not incoming and usage.bytes_stored >= stored_limit)):
            raise too_many_requests(
                "quota_exceeded", f"{after} bytes stored would be over this server's limit of {stored_limit} bytes "
                f"per user (user_max_bytes_stored)", STORED_RETRY_AFTER, quota="bytes_stored", limit=stored_limit,
                used=usage.bytes_stored)

    def record_ingest(self, conn: Any, user_id: int, size: int) -> None:
        """Count ``size`` stored bytes against today (inside the transaction that records them)."""
        conn.execute("INSERT INTO ingest_days (user_id, day, bytes) VALUES (?, ?, ?)"
                     " ON CONFLICT (user_id, day) DO UPDATE SET bytes = ingest_days.bytes + excluded.bytes",
                     (user_id, utc_day(self.clock()), size))
