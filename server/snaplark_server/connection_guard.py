"""Connection hygiene: what a client without a token can hold or spend on the reference server (issue 16).

What uvicorn 0.55 + httptools does on its own, and why that is not enough:

- No timeout while a request head or body is being received: ``timeout_keep_alive`` only covers the idle time
  between requests and is reset by every byte (uvicorn issue #157 lists a head timeout and a body timeout as
  never implemented). A head sent one line per second stays open for ever.
- No limit on the head size with httptools (``h11_max_incomplete_event_size`` applies to the h11 parser only;
  llhttp's limit is not settable from Python): a 64 MB header was buffered (+80 MiB RSS in 7 s, measured).
- ``limit_concurrency`` answers 503 to *every* new request once the number of connections reaches it --
  slow-header connections count, so it would hand an attacker exactly the outage it wants.
- At the fd limit asyncio's accept loop logs a traceback for every failed ``accept()`` (up to ``backlog`` per
  wake-up, each also re-scheduling a retry), and the listen queue is never drained: with ``ulimit -n 1024`` and
  1,100 slow-header connections, ``/health`` timed out and the log grew by 32 MB (38,907 tracebacks) in 8 s.

So the server runs uvicorn's httptools protocol (3.14 s of server CPU per GiB ingested against 3.49 s with h11,
benchmarks/server_ingest.py) through `GuardedHttpToolsProtocol`, which adds, with one `ConnectionGuard` per server:

- **head timeout** (``header_timeout``, 10 s): a connection must deliver a complete request head within that time
  from connecting or from the end of its previous answer, however it trickles; else 408 (if it sent anything)
  and close. One sweep timer per server checks all connections (at most 1 s late), not a timer each.
- **head size** (``max_header_size``, 32 KiB): bytes are counted before they reach the parser, so no more than
  that is ever buffered; more -> 431 and close.
- **body progress** (``body_timeout``, 20 s; ``body_min_rate``, 1 KiB/s): while a body is being received, no byte
  for ``body_timeout`` seconds, or fewer than ``body_min_rate`` bytes/s on average over a ``body_timeout`` window,
  -> 408 and close. Time during which the *server* is not reading (uvicorn paused reading because the app has
  not consumed the buffer, or an ``Expect: 100-continue`` not yet answered) does not count against the client.
- **early answer closes**: an answer that starts before the request body has fully arrived (401 without a valid
  token, 413, 415 -- the app checks the token before it reads a byte of the body) carries ``Connection: close``
  and the connection is closed after it, instead of uvicorn reading and discarding the rest of the body.
  (urllib3 2 still reads that answer when its body upload fails; tested with requests.)
- **connection cap** (``max_connections``, 1000, and never more than ``RLIMIT_NOFILE`` minus `FD_RESERVE`): when a
  new connection goes over it, the connection that has waited longest for a request head is closed (an idle
  keep-alive connection or an unfinished head; never one whose request is being served). A client that sends its
  head at once -- ``/health``, any real upload -- is therefore served: only connections that keep the server
  waiting are shed. The reserve keeps descriptors free for connections accepted but not yet seen by the guard
  (asyncio accepts up to `ACCEPT_BATCH` per wake-up and hands them over two loop turns later; a shed socket is
  closed one turn after that) and for the server's own files (database, spool and part files, S3 sockets), so
  ``accept()`` does not hit EMFILE. The listen queue is `LISTEN_QUEUE` long, so that a real client's SYN that
  arrives during a burst of attack connections waits there instead of being dropped (a 1 s retry).
  ``snaplark-server serve`` first raises its soft open-files limit to the hard one (at most 65536; the common
  ``ulimit -n 1024`` is a soft limit), see `raise_fd_soft_limit`; the embedded server keeps the tray app's.
- **log flood gate** (``log_flood_interval``, 10 s): a failed ``accept()`` (EMFILE and friends) is one line
  without a traceback, at most once per interval with the count of the others; repeated uvicorn and asyncio
  warnings ("Invalid HTTP request received." ...) likewise.

Why not another server: Granian has a header read timeout and Hypercorn ``h11_max_incomplete_size`` and a read
timeout, but neither has a body-rate check or sheds head-less connections near the fd limit, both would be new
dependencies, and both run their own loop/process model, which the in-process `ServerThread` and the
socket-activated embedded server would have to be rebuilt around. The subclass is small and uses uvicorn's
parser and flow control unchanged; the price is that it depends on uvicorn's protocol internals
(``cycle``, ``flow``, ``pipeline``, the parser callbacks), which `tests/integration/server/` exercises.

Measured (benchmarks/server_ingest.py, 2 CPUs shared with other work; server ``ulimit -n 1024`` soft and hard,
so 832 connections; an attacker process holding 1,100 slow-header connections and re-opening shed ones every
second; ``GET /health`` on a new connection every 50 ms for 15 s): before, 3 of 3 probes unanswered within 5 s
and 55 MB of log; after, p50 3.9 ms, p99 40 ms (30-80 ms over repeated runs, as other processes load the
machine; an un-attacked server probed alongside: p99 5-10 ms), every probe answered, 1 KB of log. The p99 is
the loop's time for one attack round (~270 re-opened connections, each accepted, shed and closed by asyncio's
Python transports); uvloop 0.23 cuts that roughly in half when the machine is quiet, not enough to be worth a
new dependency. Three attacker processes with 2,400 connections: p99 ~250 ms, every probe answered, no EMFILE.
Ingest/raw-disk ratio 0.565 against 0.531 before in the same session (noise; goal >= 0.5).

Threading: `ConnectionGuard` and the protocol objects live on the server's event-loop thread; only
`ConnectionLimits.from_config` and `LogFloodGate` may be used from other threads.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .config import ServerConfig

log = logging.getLogger(__name__)

ACCEPT_BATCH = 32  # the most connections asyncio accepts in one wake-up (its create_server ``backlog``)
LISTEN_QUEUE = 1024  # the kernel's queue of connections not yet accepted (re-set after asyncio's listen())
FD_RESERVE = 2 * ACCEPT_BATCH + 128  # descriptors kept free of connections (accept bursts, the server's files)
SWEEP_BATCH = 64  # head timeouts handled per pass of the sweep
_ACCEPT_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_FLOODED_LOGGERS = ("uvicorn.error", "asyncio")


def fd_soft_limit() -> int | None:
    """RLIMIT_NOFILE's soft limit; None where there is none (Windows, unlimited)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def raise_fd_soft_limit(target: int = 65536) -> tuple[int, int] | None:
    """Raise RLIMIT_NOFILE's soft limit towards ``target`` (never above the hard limit), as Go programs and nginx
    do: the common ``ulimit -n 1024`` is a soft limit under a far higher hard one. Only for a process that waits
    with epoll/kqueue, never ``select()`` (fds over 1023 break it): the command line server, not the tray app.
    Returns (old, new) when it changed, else None."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    new = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if new <= soft:
        return None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    except (ValueError, OSError):  # e.g. macOS refuses more than OPEN_MAX
        return None
    return soft, new


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float
    max_header_size: int
    body_timeout: float
    body_min_rate: int
    max_connections: int  # effective: the configured value, lowered to what the fd limit allows
    log_flood_interval: float

    @classmethod
    def from_config(cls, config: ServerConfig, fd_limit: int | None = -1) -> "ConnectionLimits":
        """``fd_limit``: RLIMIT_NOFILE to plan with (default: this process's soft limit; None = no limit)."""
        if fd_limit == -1:
            fd_limit = fd_soft_limit()
        cap = config.max_connections
        if fd_limit is not None:
            cap = min(cap, max(fd_limit - FD_RESERVE, fd_limit // 4, 1))
        return cls(header_timeout=float(config.header_timeout), max_header_size=int(config.max_header_size),
                   body_timeout=float(config.body_timeout), body_min_rate=int(config.body_min_rate),
                   max_connections=int(cap), log_flood_interval=float(config.log_flood_interval))


class LogFloodGate(logging.Filter):
    """Lets one record per (logger, level, message template) through every ``interval`` seconds; the next one
    let through says how many were held back. As a logging filter it sees every thread's records (a lock)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[Any, tuple[float, int]] = {}

    def admit(self, key: Any) -> int | None:
        """None: hold this one back. Else the number held back since the last one admitted."""
        now = self._clock()
        with self._lock:
            last, held = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.interval:
                self._seen[key] = (last, held + 1)
                return None
            self._seen[key] = (now, 0)
            return held

    def filter(self, record: logging.LogRecord) -> bool:
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        held = self.admit((record.name, record.levelno, template))
        if held is None:
            return False
        if held:
            record.msg = f"{record.msg} [{held} more like this in the last {self.interval:g} s not logged]"
        return True


class ConnectionGuard:
    """Bookkeeping shared by the connections of one uvicorn server: who waits for a request head since when, who
    is sending a body, the connection cap, and one periodic sweep for the timeouts (no timer per connection).

    `start` / `stop` and everything else on the server's event-loop thread."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.gate = LogFloodGate(limits.log_flood_interval)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._previous_handler: Any = None
        self._live: set[GuardedHttpToolsProtocol] = set()
        self._waiting: OrderedDict[GuardedHttpToolsProtocol, float] = OrderedDict()  # oldest wait first
        self._bodies: set[GuardedHttpToolsProtocol] = set()
        self.counts = {"shed": 0, "head_timeout": 0, "head_too_large": 0, "body_timeout": 0, "accept_error": 0}
        self._sweep_every = max(0.05, min(1.0, limits.header_timeout / 4, limits.body_timeout / 4))

    # ------------------------------------------------------------------ life cycle
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._loop_exception)
        for name in _FLOODED_LOGGERS:
            logging.getLogger(name).addFilter(self.gate)
        self._timer = loop.call_later(self._sweep_every, self._sweep)
        log.debug("connection limits: %s", self.limits)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for name in _FLOODED_LOGGERS:
            logging.getLogger(name).removeFilter(self.gate)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.set_exception_handler(self._previous_handler)
        shed = {k: v for k, v in self.counts.items() if v}
        if shed:
            log.info("connections cut since start: %s", ", ".join(f"{k} {v}" for k, v in shed.items()))

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The server's event loop once started (to schedule work on it from another thread)."""
        return self._loop

    def now(self) -> float:
        return self._loop.time() if self._loop is not None else time.monotonic()

    # ------------------------------------------------------------------ called by the protocol
    def connection_made(self, conn: "GuardedHttpToolsProtocol") -> None:
        self._live.add(conn)
        self._waiting[conn] = self.now()
        if len(self._live) > self.limits.max_connections:
            self._shed(conn)

    def connection_lost(self, conn: "GuardedHttpToolsProtocol") -> None:
        self._live.discard(conn)
        self._waiting.pop(conn, None)
        self._bodies.discard(conn)

    def head_received(self, conn: "GuardedHttpToolsProtocol") -> None:
        self._waiting.pop(conn, None)

    def waiting_for_head(self, conn: "GuardedHttpToolsProtocol") -> None:
        self._waiting[conn] = self.now()
        self._waiting.move_to_end(conn)

    def body_started(self, conn: "GuardedHttpToolsProtocol") -> None:
        self._bodies.add(conn)

    def body_finished(self, conn: "GuardedHttpToolsProtocol") -> None:
        self._bodies.discard(conn)

    def count(self, what: str) -> None:
        self.counts[what] += 1

    # ------------------------------------------------------------------ policy
    def _shed(self, newcomer: "GuardedHttpToolsProtocol") -> None:
        """Over the cap: close the connections that have waited longest for a request head."""
        closed = 0
        while len(self._live) > self.limits.max_connections:
            victim = next(iter(self._waiting), newcomer)
            if victim is newcomer:  # the newest waiter: every older connection is busy with a request
                break
            self._waiting.pop(victim)
            self._live.discard(victim)
            victim.close_idle()
            closed += 1
        if len(self._live) > self.limits.max_connections:  # all others are serving requests: refuse the new one
            self._waiting.pop(newcomer, None)
            self._live.discard(newcomer)
            newcomer.close_idle()
            closed += 1
        self.counts["shed"] += closed
        held = self.gate.admit("shed")
        if held is not None:
            log.warning("connection limit (%d) reached: closed the connection(s) waiting longest for a request "
                        "head (%d in all so far)", self.limits.max_connections, self.counts["shed"])

    def _sweep(self) -> None:
        """Time out heads and bodies. At most `SWEEP_BATCH` heads per pass: when an attack's connections all
        expire together, the rest follow a few milliseconds later, and requests in between are served."""
        again = self._sweep_every
        try:
            now = self.now()
            deadline = now - self.limits.header_timeout
            for _ in range(SWEEP_BATCH):
                if not self._waiting:
                    break
                conn, since = next(iter(self._waiting.items()))
                if since > deadline:
                    break
                self._waiting.popitem(last=False)
                self.counts["head_timeout"] += 1
                conn.head_timed_out()
            else:
                again = 0.005
            for conn in list(self._bodies):
                conn.check_body_progress(now)
        except Exception:  # noqa: BLE001 - the sweep must go on
            log.exception("connection sweep failed")
        finally:
            if self._loop is not None and not self._loop.is_closed():
                self._timer = self._loop.call_later(again, self._sweep)

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _ACCEPT_ERRNOS and "accept" in context.get("message", ""):
            self.counts["accept_error"] += 1
            held = self.gate.admit(("accept", exc.errno))
            if held is not None:
                log.error("accept() failed: %s (%d more since the last such message); new connections wait in the "
                          "listen queue. Raise the open-files limit (ulimit -n) or lower max_connections",
                          exc.strerror or exc, held)
            return
        if self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)


def _error_bytes(status: int, code: str, message: str) -> bytes:
    body = json.dumps({"error": code, "message": message}).encode()
    return b"".join([STATUS_LINE[status], b"content-type: application/json\r\n",
                     b"content-length: %d\r\n" % len(body), b"connection: close\r\n\r\n", body])


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol under a `ConnectionGuard` (see the module docstring for the rules).

    Request states, as the guard sees them: waiting for a head (from connect / the end of the previous answer to
    the parser's headers-complete), receiving a body (headers-complete to message-complete), being answered.
    Event-loop thread only, like its base class."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None, *, guard: ConnectionGuard) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = guard
        self._max_head = guard.limits.max_header_size
        self._in_head = True  # the next bytes belong to a request head
        self._head_bytes = 0
        self._in_body = False
        self._keep_alive_after_body: bool | None = None
        self._last_body_byte = 0.0
        self._window_start = 0.0
        self._window_bytes = 0

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.connection_made(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.connection_lost(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        while data:
            if not self._in_head:
                if self._in_body:
                    self._window_bytes += len(data)
                    self._last_body_byte = self.guard.now()
                super().data_received(data)
                return
            room = self._max_head - self._head_bytes
            piece, data = (data, b"") if len(data) <= room else (data[:room], data[room:])
            self._head_bytes += len(piece)
            if piece:
                super().data_received(piece)
                if self.transport.is_closing():
                    return
            if data and self._in_head:  # the limit is reached and the head is still not complete
                self.guard.count("head_too_large")
                self._refuse(431, "header_too_large",
                             f"request line and headers exceed {self._max_head} bytes")
                return

    # ------------------------------------------------------------------ parser callbacks
    def on_headers_complete(self) -> None:
        self._in_head = False
        self.guard.head_received(self)
        super().on_headers_complete()
        # Until the body has fully arrived, an answer closes the connection (see on_message_complete).
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            self._keep_alive_after_body = cycle.keep_alive
            cycle.keep_alive = False
        self._in_body = True
        now = self.guard.now()
        self._last_body_byte = self._window_start = now
        self._window_bytes = 0
        self.guard.body_started(self)

    def on_message_complete(self) -> None:
        if self._in_body:
            self._in_body = False
            self.guard.body_finished(self)
            cycle = self.cycle
            if self._keep_alive_after_body is not None and cycle is not None and not cycle.response_started:
                cycle.keep_alive = self._keep_alive_after_body
            self._keep_alive_after_body = None
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if not self.transport.is_closing() and (cycle is None or cycle.response_complete):
            self.guard.waiting_for_head(self)  # no pipelined request started: the next head is awaited

    # ------------------------------------------------------------------ called by the guard
    def close_idle(self) -> None:
        """Shed by the connection cap (it had no request being served)."""
        self.transport.close()

    def head_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self._head_bytes:
            self._refuse(408, "request_timeout",
                         f"request head not complete within {self.guard.limits.header_timeout:g} s")
        else:
            self.transport.close()

    def check_body_progress(self, now: float) -> None:
        cycle = self.cycle
        limits = self.guard.limits
        if self.transport.is_closing() or cycle is None:
            self.guard.body_finished(self)
            return
        if self.flow.read_paused or cycle.waiting_for_100_continue:  # the server is not reading: not the client's fault
            self._last_body_byte = self._window_start = now
            self._window_bytes = 0
            return
        if now - self._last_body_byte >= limits.body_timeout:
            self._cut_body(f"no request body byte for {limits.body_timeout:g} s")
            return
        window = now - self._window_start
        if window >= limits.body_timeout:
            if self._window_bytes < limits.body_min_rate * window:
                self._cut_body(f"request body slower than {limits.body_min_rate} bytes/s "
                               f"({self._window_bytes} bytes in {window:.1f} s)")
                return
            self._window_start = now
            self._window_bytes = 0

    # ------------------------------------------------------------------ closing
    def _cut_body(self, why: str) -> None:
        self.guard.count("body_timeout")
        self.guard.body_finished(self)
        self._in_body = False
        log.debug("%s: %s", self.client, why)
        cycle = self.cycle
        if cycle.response_started:
            self.transport.abort()
        else:
            self._refuse(408, "request_timeout", why)
        # the app sees a disconnect (its multipart parser removes the spool file); its answer goes nowhere
        cycle.disconnected = True
        cycle.message_event.set()

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer with a JSON error and close (the request never reached the app, or its body was cut)."""
        if not self.transport.is_closing():
            self.transport.write(_error_bytes(status, code, message))
            self.transport.close()


def guarded_protocol_factory(guard: ConnectionGuard) -> Callable[..., GuardedHttpToolsProtocol]:
    """What uvicorn's ``Config(http=...)`` takes: a class-like callable building protocols under ``guard``."""

    def factory(config: Any, server_state: Any, app_state: dict[str, Any],
                _loop: asyncio.AbstractEventLoop | None = None) -> GuardedHttpToolsProtocol:
        return GuardedHttpToolsProtocol(config, server_state, app_state, _loop, guard=guard)

    return factory


class GuardedServer(uvicorn.Server):
    """A uvicorn server whose connections run under one `ConnectionGuard` (armed in ``startup``, disarmed in
    ``shutdown``, both on the server's loop)."""

    def __init__(self, app: Any, limits: ConnectionLimits, **uvicorn_options: Any) -> None:
        self.guard = ConnectionGuard(limits)
        super().__init__(uvicorn.Config(app, http=guarded_protocol_factory(self.guard), ws="none",
                                        backlog=ACCEPT_BATCH, **uvicorn_options))

    async def startup(self, sockets: list | None = None) -> None:
        self.guard.start(asyncio.get_running_loop())
        try:
            await super().startup(sockets=sockets)
        except BaseException:  # e.g. the app's start-up failed: uvicorn exits without calling shutdown
            self.guard.stop()
            raise
        # asyncio uses one number both as the listen() queue and as the accept() batch; a short queue drops the
        # SYN of a real client arriving during a burst of attack connections (it retries after 1 s), a long batch
        # puts more descriptors in flight than FD_RESERVE allows for. So: a short batch, then a long queue.
        for sock in sockets or ():
            try:
                sock.listen(LISTEN_QUEUE)
            except OSError:
                pass

    async def shutdown(self, sockets: list | None = None) -> None:
        self.guard.stop()
        await super().shutdown(sockets=sockets)
