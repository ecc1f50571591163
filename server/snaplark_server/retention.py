"""Expiry of stored objects (issue 15): ``expiresIn`` (seconds) at upload, the server's ``default_expiry`` and
``max_expiry``, and the loop that deletes what has expired.

An object whose ``expires_at`` has passed answers 410 ``expired`` on every link at once (share_routes.py asks
`ObjectView.gone_reason` with the server's clock); the cleanup loop then deletes its bytes and poster from storage
and leaves the tombstone row (``deleted_reason = 'expired'``), like an owner's delete (shares.py).

Threading contract: `expires_in` and `expires_at` are pure; `expiry_loop` runs on the event loop and does its
work in a worker thread through `ShareService.delete_expired`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import ApiError, invalid

if TYPE_CHECKING:
    from .config import ServerConfig
    from .shares import ShareService

log = logging.getLogger(__name__)

FIELD = "expiresIn"  # the extension field: JSON number at init/finalize, a decimal form field with a screenshot
MAX_SECONDS = 100 * 365 * 86_400  # what "a number of seconds" may be at most, whatever max_expiry says


def _describe_limit(seconds: float) -> str:
    return describe_span(seconds) + f" ({seconds:g} s)"


def expires_in(value: Any, config: "ServerConfig", *, form: bool = False) -> float | None:
    """Seconds until an upload expires, from the client's ``expiresIn`` (None: not given) and the server's
    ``default_expiry`` / ``max_expiry`` (0 = none). None = never. A bad value is a 422 naming the field; more than
    ``max_expiry`` is refused rather than shortened, so a client never believes a link lives longer than it will.
    ``form``: the value is a multipart form field (decimal text); in JSON it must be a number."""
    if value is None:
        default = config.default_expiry or config.max_expiry  # with only a maximum, nothing lives longer
        return float(default) if default else None
    if form and isinstance(value, str):
        value = float(value) if re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,6})?", value) else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0 or value > MAX_SECONDS:
        raise invalid(f"{FIELD}: expected a positive number of seconds (at most {MAX_SECONDS}), got {value!r}"[:200])
    if config.max_expiry and value > config.max_expiry:
        raise ApiError(422, "invalid_request", f"{FIELD}: {value:g} s is longer than this server keeps uploads "
                       f"(max_expiry {_describe_limit(config.max_expiry)})", maxExpiry=config.max_expiry)
    return float(value)


def expires_at(created_at: float, seconds: float | None) -> float | None:
    return None if seconds is None else created_at + seconds


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer_fields(expiry: float | None) -> dict[str, str]:
    """The extension field of an upload answer: ``expiresAt`` when the object expires (a client that asked for an
    expiry and gets no ``expiresAt`` knows the server ignored it)."""
    return {} if expiry is None else {"expiresAt": iso(expiry)}


def describe_span(seconds: float) -> str:
    """``3 days``, ``5 hours``, ``12 minutes``, ``less than a minute`` (rounded down to the largest unit)."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        n = int(seconds // size)
        if n >= 1:
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return "less than a minute"


def expire_objects_once(shares: "ShareService", db: Any) -> int | None:
    """One round of object expiry, on the cleanup leader only (always with SQLite; with PostgreSQL the instance
    holding the leader lock, pg.py), like the session cleanup: how many objects expired, or None when another
    instance is the leader. (The per-object lock would stop a double delete anyway; one instance doing the round
    saves the others the query and the storage calls.)"""
    if not db.is_leader():
        return None
    return shares.delete_expired()


async def expiry_loop(shares: "ShareService", db: Any, interval: float) -> None:
    """Delete expired objects every ``interval`` seconds (config ``cleanup_interval``), on the leader only."""
    from starlette.concurrency import run_in_threadpool

    while True:
        await asyncio.sleep(interval)
        try:
            n = await run_in_threadpool(expire_objects_once, shares, db)
            if n:
                log.info("deleted %d expired object(s)", n)
        except Exception:
            log.exception("deleting expired objects failed")


__all__ = ["FIELD", "answer_fields", "describe_span", "expires_at", "expires_in", "expire_objects_once", "expiry_loop", "iso"]
