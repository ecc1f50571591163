"""Access log, request ids, request metrics and the deep health check of the reference server (issue 16).

`ObservabilityMiddleware` is a plain ASGI middleware (no ``BaseHTTPMiddleware``: request and answer bodies stream
through untouched, counted on the way) around every route (only the tests' fault injection, faults.py, sits
outside it: it needs uvicorn's own ``receive``). For each HTTP request it

- takes the client's ``X-Request-Id`` if sane or makes one (request_context.py), echoes it in the answer and sets
  it for every log line, audit entry and access log line of that request;
- counts body bytes in and out and the time from arrival to the answer's last byte;
- after the answer: one access log line and the request metrics (metrics.py), with the route *template*, and for
  an error answer (``{"error": "<code>"}``) its code.

Access log (config ``access_log``: ``-`` = stderr (default), ``off``, or a file, relative to the data dir; mode
0600, appended, so ``logrotate`` with ``copytruncate`` works), one line per request:

    2026-05-01T10:00:00.123Z 127.0.0.1 alice "POST /api/v1/videos/chunk" 200 in=5243101 out=118 41.2ms rid=1f0c... ua="..."

or with ``access_log_json = true`` one JSON object per line with the keys ``ts client user method path route
status bytesIn bytesOut durationMs requestId userAgent``. ``user`` is the account whose token the request carried
("-" without a valid one). The path is logged without secrets: the value of any query parameter whose name looks
like a credential (token, key, secret, password, signature, auth, credential, session) and any long bare query
word are replaced by ``REDACTED``; headers (``Authorization``) are never logged. Control characters and quotes are
escaped. Requests the connection guard refuses before they reach the app (408, 431) are not in it.

Deep health (``GET /health?deep=1``): the database answers a query on a fresh read-only connection (so a database
file that vanished or cannot be opened shows, which the server's long-lived connection would hide, and a busy
writer in the server does not delay the check; at most ``DB_CHECK_TIMEOUT`` for a locked one), and the data dir has
at least ``min_free_bytes`` free; 200 with the details, else 503.

Threading: the middleware and `AccessLog` run on the event loop; `deep_health` in a worker thread.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, Callable, TextIO
from urllib.parse import quote

from .audit import utc_iso_ms
from .disk_space import DiskReserve
from .metrics import UNMATCHED_ROUTE, ServerMetrics
from .private_files import FILE_MODE, tighten
from .request_context import REQUEST_ID_HEADER, RequestInfo, accept_request_id, enter_request, leave_request

log = logging.getLogger(__name__)

ACCESS_LOG_OFF = ("off", "")
ACCESS_LOG_STDERR = ("-", "stderr")
SENSITIVE_QUERY_KEY = re.compile(r"token|key|secret|pass|pwd|sig|auth|credential|session|cookie|code", re.I)
MAX_BARE_QUERY_WORD = 24  # a longer query word without "=" could be a credential pasted into a URL
MAX_LOGGED_PATH = 1000
MAX_LOGGED_AGENT = 200
ERROR_BODY_PEEK = 4096  # an error answer's first bytes, for its JSON "error" code
DB_CHECK_TIMEOUT = 2.0
CLIENT_CLOSED = 499  # status logged for a request whose client left before any answer (as nginx does)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\"}


def log_safe(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` with quotes, backslashes and non-printable characters escaped."""
    text = text[:limit]
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return "".join(_ESCAPES.get(ord(c), c) if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def redact_query(query: str) -> str:
    """The query string with credential-looking values replaced (see the module docstring)."""
    if not query:
        return ""
    out = []
    for item in query.split("&"):
        name, eq, _value = item.partition("=")
        if eq:
            out.append(f"{name}=REDACTED" if SENSITIVE_QUERY_KEY.search(name) else item)
        else:
            out.append("REDACTED" if len(item) > MAX_BARE_QUERY_WORD else item)
    return "&".join(out)


def loggable_path(scope: dict) -> str:
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(scope.get("path", ""), safe="/%")
    path = path.split("?", 1)[0]
    query = redact_query(scope.get("query_string", b"").decode("latin-1"))
    return log_safe(path + ("?" + query if query else ""), MAX_LOGGED_PATH)


class AccessLog:
    """Writes access log lines to stderr or a file (see the module docstring). ``write`` is called on the event
    loop only; the file is opened on first use."""

    def __init__(self, destination: str, data_dir: Path, json_lines: bool = False) -> None:
        self.json_lines = json_lines
        self._to_stderr = destination in ACCESS_LOG_STDERR
        self.path: Path | None = None
        if not self._to_stderr:
            path = Path(destination).expanduser()
            self.path = path if path.is_absolute() else Path(data_dir) / path
        self._file: TextIO | None = None

    @classmethod
    def from_config(cls, config) -> "AccessLog | None":
        destination = str(config.access_log or "").strip()
        if destination.lower() in ACCESS_LOG_OFF:
            return None
        return cls(destination, config.data_dir, config.access_log_json)

    def _stream(self) -> TextIO:
        if self._to_stderr:
            return sys.stderr  # looked up each time: whatever stderr is now (a test's capture, a redirect)
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_CLOEXEC, FILE_MODE)
            tighten(self.path, FILE_MODE)
            self._file = os.fdopen(fd, "a", encoding="utf-8", buffering=1)
        return self._file

    def format(self, entry: dict[str, Any]) -> str:
        if self.json_lines:
            return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
        return (f'{entry["ts"]} {entry["client"] or "-"} {log_safe(entry["user"] or "-", 64)} '
                f'"{entry["method"]} {entry["path"]}" {entry["status"]} in={entry["bytesIn"]} '
                f'out={entry["bytesOut"]} {entry["durationMs"]:.1f}ms rid={entry["requestId"]} '
                f'ua="{entry["userAgent"]}"')

    def write(self, entry: dict[str, Any]) -> None:
        try:
            stream = self._stream()
            stream.write(self.format(entry) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # a full disk or a closed stream must not fail the request
            log.error("cannot write the access log: %s", exc)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None


class ObservabilityMiddleware:
    """See the module docstring. ``access_log`` None: no access log (metrics and request ids still)."""

    def __init__(self, app, *, metrics: ServerMetrics, access_log: AccessLog | None,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.clock = clock

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        wall = self.clock()
        rid = accept_request_id(_header(scope, REQUEST_ID_HEADER.encode()))
        client = scope.get("client")
        client_host = client[0] if client else None
        token = enter_request(RequestInfo(rid, client_host))
        state = scope.setdefault("state", {})  # request.state.user is set by the app's authentication
        rid_header = (REQUEST_ID_HEADER.encode(), rid.encode("ascii"))
        counts = {"in": 0, "out": 0}
        answer: dict[str, Any] = {"status": None, "peek": None}

        async def counting_receive():
            message = await receive()
            if message["type"] == "http.request":
                counts["in"] += len(message.get("body", b""))
            return message

        async def tagging_send(message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                answer["status"] = status
                headers = [h for h in message.get("headers", ()) if h[0].lower() != rid_header[0]]
                headers.append(rid_header)
                message = {**message, "headers": headers}
                if status >= 400:
                    ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                    if b"json" in ctype:
                        answer["peek"] = bytearray()
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                counts["out"] += len(body)
                peek = answer["peek"]
                if peek is not None and len(peek) < ERROR_BODY_PEEK:
                    peek += body[:ERROR_BODY_PEEK - len(peek)]
            await send(message)

        self.metrics.in_progress.inc()
        failed = False
        try:
            await self.app(scope, counting_receive, tagging_send)
        except Exception:
            failed = True  # Starlette's outermost handler answers 500 (its log line still has this request's id)
            raise
        except BaseException:  # cancelled: the client went away before an answer
            failed = True
            answer["status"] = answer["status"] or CLIENT_CLOSED
            raise
        finally:
            self.metrics.in_progress.dec()
            status = answer["status"] or (500 if failed else 0)
            route = scope.get("route")
            route_path = getattr(route, "path", None) or UNMATCHED_ROUTE
            error_code = _error_code(answer["peek"], status) if status >= 400 or failed else None
            seconds = time.perf_counter() - started
            self.metrics.observe_request(scope.get("method", ""), route_path, status, seconds, counts["in"],
                                         counts["out"], error_code)
            if self.access_log is not None:
                self.access_log.write({
                    "ts": utc_iso_ms(wall), "client": client_host, "user": state.get("user"),
                    "method": log_safe(scope.get("method", ""), 16), "path": loggable_path(scope),
                    "route": route_path, "status": status, "bytesIn": counts["in"], "bytesOut": counts["out"],
                    "durationMs": round(seconds * 1000, 3), "requestId": rid,
                    "userAgent": log_safe((_header(scope, b"user-agent") or b"").decode("latin-1"), MAX_LOGGED_AGENT),
                })
            if not failed:
                leave_request(token)


def _error_code(peek: bytearray | None, status: int) -> str:
    if peek:
        try:
            code = json.loads(bytes(peek)).get("error")
            if isinstance(code, str) and code:
                return log_safe(code, 64)
        except (ValueError, AttributeError):
            pass
    return "internal_error" if status >= 500 else f"http_{status}"


# --- deep health ----------------------------------------------------------------------------------------------


def check_database(path: Path, timeout: float = DB_CHECK_TIMEOUT) -> dict[str, Any]:
    """A query on a fresh read-only connection to the database file."""
    t0 = time.perf_counter()
    try:
        uri = "file:" + quote(str(path)) + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            open_sessions = conn.execute("SELECT COUNT(*) FROM sessions WHERE state = 'open'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "ms": round((time.perf_counter() - t0) * 1e3, 1)}
    return {"ok": True, "openSessions": open_sessions, "ms": round((time.perf_counter() - t0) * 1e3, 1)}


def check_disk(disk: DiskReserve) -> dict[str, Any]:
    free = disk.free()
    if free is None:
        return {"ok": False, "error": "free space cannot be measured", "minFreeBytes": disk.reserve}
    ok = free >= disk.reserve
    result: dict[str, Any] = {"ok": ok, "freeBytes": free, "minFreeBytes": disk.reserve}
    if not ok:
        result["error"] = "less free space than min_free_bytes: writes are refused"
    return result


class HealthCheck:
    """``/health?deep=1``: see the module docstring. `run` is blocking (call it from a worker thread); a failing
    check is logged at most once per ``log_interval`` seconds (a load balancer probes every few seconds)."""

    def __init__(self, db_path: Path | None, disk: DiskReserve, log_interval: float = 10.0,
                 db_check: Callable[[], dict[str, Any]] | None = None) -> None:
        """``db_path``: the SQLite file, checked on a fresh connection; else ``db_check()`` (PostgreSQL: pg.py)."""
        self.db_path = Path(db_path) if db_path is not None else None
        self.db_check = db_check
        self.disk = disk
        self.log_interval = log_interval
        self._logged_at = float("-inf")

    def run(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body)."""
        database = check_database(self.db_path) if self.db_path is not None else self.db_check()
        checks = {"database": database, "disk": check_disk(self.disk)}
        failed = [name for name, result in checks.items() if not result["ok"]]
        if not failed:
            return 200, {"status": "ok", "checks": checks}
        now = time.monotonic()
        if now - self._logged_at >= self.log_interval:  # a benign race may log twice
            self._logged_at = now
            log.warning("deep health check failing: %s",
                        "; ".join(f"{name}: {checks[name].get('error')}" for name in failed))
        return 503, {"status": "unavailable", "error": "unhealthy", "message": f"failing: {', '.join(failed)}",
                     "checks": checks}
