"""The retry policy around every API call of one upload (``shared/API.md``, "Statuses the client acts on").

Transient errors (408/425/429/5xx) back off 1, 2, 4, 8, 16 s then 16 s forever, ±20 % jitter, Retry-After honoured;
Offline pauses the upload (``PAUSED_OFFLINE``) and probes the server until any HTTP answer comes back (a seed-only
server's 404 on ``/health`` counts); a 401 puts it into ``AUTH_REQUIRED`` until a login. SessionGone, Incomplete,
ChecksumMismatch and PermanentError are the caller's to handle. Threading: one CallPolicy per worker thread.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from tray.api.client import ApiClient
from tray.api.errors import ApiError, AuthRequired, Offline, TransientError
from tray.upload.context import EngineContext
from tray.upload.state import UploadState

log = logging.getLogger(__name__)

S = UploadState
AUTH_PROBE_SCHEDULE = (15.0, 30.0, 60.0)  # while AUTH_REQUIRED: check the token again now and then


class CallPolicy:
    """``go(state, reason)`` moves the upload's state machine (and publishes); ``state()`` reads it."""

    def __init__(self, ctx: EngineContext, upload_id: int, go: Callable[[UploadState, str], None],
                 state: Callable[[], UploadState]):
        self._ctx = ctx
        self._id = upload_id
        self._go = go
        self._state = state

    def call(self, client: ApiClient, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` until it succeeds or raises something the caller must handle."""
        ctx = self._ctx
        backoff = ctx.new_backoff()
        active = self._state()
        while True:
            ctx.check_stop()
            try:
                result = fn()
            except AuthRequired as exc:
                rejected = client.token_fingerprint()
                generation = ctx.enter_auth_required()
                self._go(S.AUTH_REQUIRED, str(exc))
                self._wait_for_login(client, generation, rejected)
                ctx.leave_auth_required()
                self._go(active, "logged in again")
                backoff.reset()
                continue
            except Offline as exc:
                ctx.set_online(False)
                self._go(S.PAUSED_OFFLINE, str(exc))
                self._probe_until_online(client, backoff)
                self._go(active, "back online")
                continue
            except TransientError as exc:
                delay = backoff.next_delay(exc.retry_after)
                log.info("upload %s: %s; retrying in %.2fs", self._id, exc, delay)
                ctx.sleep(delay)
                continue
            ctx.set_online(True)
            return result

    def _wait_for_login(self, client: ApiClient, generation: int, rejected: str | None) -> None:
        """Until :meth:`UploadEngine.auth_restored` is called, or the token works again, checked now and then so a
        login that raced with this 401 is not missed: with ``GET /me`` where the server has it, else (a seed-only
        server) by the token having changed since the one that was ``rejected``; the retried call then checks it."""
        ctx = self._ctx
        backoff = ctx.new_backoff(AUTH_PROBE_SCHEDULE)
        while True:
            ctx.sleep(backoff.next_delay(), lambda: ctx.login_generation() != generation)
            if ctx.login_generation() != generation:
                return
            try:
                if client.me() is None and client.token_fingerprint() == rejected:
                    continue
            except ApiError as exc:
                log.debug("upload %s: still not logged in (%s)", self._id, exc)
                continue
            return

    def _probe_until_online(self, client: ApiClient, backoff: Any) -> None:
        """Back online as soon as the server gives any HTTP answer (``/health`` where it exists; a seed-only
        server's 404 there counts too)."""
        ctx = self._ctx
        while True:
            generation = ctx.online_generation()
            ctx.sleep(backoff.next_delay(), lambda: ctx.online_generation() != generation)
            try:
                client.probe()
            except ApiError as exc:
                log.debug("upload %s: still offline (%s)", self._id, exc)
                continue
            ctx.set_online(True)
            backoff.reset()
            return
