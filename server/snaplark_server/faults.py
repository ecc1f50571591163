"""Fault injection for tests (installed only when ``config.fault_injection`` is True).

``POST /_faults`` with JSON ``{"route": "/api/v1/videos/chunk", "count": N, "status": 503, "delay": 0.0,
"drop": false, "retry_after": null, "method": null}`` queues a rule: the next N requests whose path matches
``route`` (exact, or an fnmatch pattern such as ``/api/v1/videos/*/status``; ``*`` = every route) are
  * delayed by ``delay`` seconds, then
  * answered with ``status`` (JSON error ``injected_fault``, ``Retry-After`` if given) after the request body was
    read and discarded, or
  * dropped: part of the body is read, then the connection is closed without any response (``drop: true``).
A rule with neither status nor drop only delays.  ``GET /_faults`` lists rules, ``DELETE /_faults`` clears them.

Python callers can use `FaultInjector.add(...)` / `.clear()` directly (``ServerThread.faults``).

Threading contract: `FaultInjector` is used from the event loop and from test threads; a lock guards the rules.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import threading
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger(__name__)

FAULTS_PATH = "/_faults"


@dataclass
class FaultRule:
    route: str
    count: int = 1
    status: int | None = 503
    delay: float = 0.0
    drop: bool = False
    retry_after: float | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return self.route == "*" or self.route == path or fnmatch.fnmatchcase(path, self.route)


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self.fired = 0

    def add(self, route: str, count: int = 1, status: int | None = 503, delay: float = 0.0, drop: bool = False,
            retry_after: float | None = None, method: str | None = None) -> FaultRule:
        rule = FaultRule(route, int(count), status, float(delay), bool(drop), retry_after, method)
        if rule.count < 1 or rule.delay < 0 or (rule.status is not None and not (100 <= rule.status <= 599)):
            raise ValueError("count must be >= 1, delay >= 0, status a valid HTTP status")
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(r) for r in self._rules]

    def take(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                    self.fired += 1
                    return rule
        return None


async def _send_json(send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": payload})


async def _drain(receive) -> None:
    while True:
        msg = await receive()
        if msg["type"] != "http.request" or not msg.get("more_body"):
            return


async def _read_json(receive, limit: int = 65536) -> Any:
    data = bytearray()
    while True:
        msg = await receive()
        if msg["type"] != "http.request":
            break
        data += msg.get("body", b"")
        if len(data) > limit:
            raise ValueError("body too large")
        if not msg.get("more_body"):
            break
    return json.loads(data or b"{}")


def _drop_connection(receive) -> bool:
    """Close the client's socket without answering (uvicorn: the cycle behind ``receive`` owns the transport)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.abort() if hasattr(transport, "abort") else transport.close()
    if hasattr(cycle, "disconnected"):
        cycle.disconnected = True
    return True


class FaultMiddleware:
    """Outermost ASGI middleware (it needs uvicorn's own ``receive`` to drop connections)."""

    def __init__(self, app, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path == FAULTS_PATH:
            await self._control(method, receive, send)
            return
        rule = self.injector.take(method, path)
        if rule is None:
            await self.app(scope, receive, send)
            return
        log.info("fault injected on %s %s: %s", method, path, rule)
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.drop:
            await receive()  # read part of the body, then cut the connection
            if _drop_connection(receive):
                return
            # Not running under uvicorn: start a response and break it off (the client sees a broken response).
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
            raise ConnectionAbortedError("fault injection: dropped connection")
        if rule.status is not None:
            await _drain(receive)
            headers = []
            if rule.retry_after is not None:
                headers.append((b"retry-after", str(int(rule.retry_after) if float(rule.retry_after).is_integer()
                                                    else rule.retry_after).encode()))
            await _send_json(send, rule.status, {"error": "injected_fault",
                                                 "message": f"fault injected for tests (status {rule.status})"},
                             headers)
            return
        await self.app(scope, receive, send)

    async def _control(self, method: str, receive, send) -> None:
        if method == "GET":
            await _send_json(send, 200, {"rules": self.injector.rules(), "fired": self.injector.fired})
        elif method == "DELETE":
            await _drain(receive)
            self.injector.clear()
            await _send_json(send, 200, {"cleared": True})
        elif method == "POST":
            try:
                body = await _read_json(receive)
                if not isinstance(body, dict) or not isinstance(body.get("route"), str):
                    raise ValueError("route (string) is required")
                allowed = {"route", "count", "status", "delay", "drop", "retry_after", "method"}
                unknown = set(body) - allowed
                if unknown:
                    raise ValueError(f"unknown keys {sorted(unknown)}")
                rule = self.injector.add(**body)
            except (ValueError, TypeError) as exc:
                await _send_json(send, 422, {"error": "invalid_request", "message": str(exc)})
                return
            await _send_json(send, 200, {"rule": asdict(rule)})
        else:
            await _drain(receive)
            await _send_json(send, 405, {"error": "method_not_allowed", "message": "use GET, POST or DELETE"})
