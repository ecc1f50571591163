"""The request a piece of server code runs for: its ``X-Request-Id`` and client, in a context variable.

`ObservabilityMiddleware` (observability.py) sets it when a request arrives. Each request runs in its own asyncio
task, and Starlette's ``run_in_threadpool`` copies the context into the worker thread, so the service code, the
audit log and every log line of that request see the same id without it being passed around.
`RequestIdLogFilter` puts it in log records as ``%(request_id)s`` ("-" outside a request); ``snaplark-server
serve`` has it in its log format.

A client may choose the id (``X-Request-Id``: 1-64 characters of ``A-Z a-z 0-9 . _ -``, e.g. nginx's
``$request_id``), so one id follows a request through a proxy and the server; anything else is replaced by a new
random one. The answer always carries the id in ``X-Request-Id``.

Threading: context variables are per task / per thread; nothing here is shared.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
from dataclasses import dataclass

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class RequestInfo:
    request_id: str
    client: str | None  # the peer's address (behind a proxy: the proxy's)


_CURRENT: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("snaplark_request", default=None)


def current_request() -> RequestInfo | None:
    return _CURRENT.get()


def enter_request(info: RequestInfo) -> contextvars.Token:
    return _CURRENT.set(info)


def leave_request(token: contextvars.Token) -> None:
    _CURRENT.reset(token)


def new_request_id() -> str:
    return secrets.token_hex(8)


def accept_request_id(value: str | bytes | None) -> str:
    """The client's id if it is sane (see the module docstring), else a new one."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value and REQUEST_ID_RE.match(value):
        return value
    return new_request_id()


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every record passing a handler: the current request's id, else "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = _CURRENT.get()
        record.request_id = info.request_id if info is not None else "-"
        return True
