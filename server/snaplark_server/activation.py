"""Socket activation for the embedded server: own the port at once, load the web stack on first use.

The tray app embeds the reference server so that links work with no account. FastAPI, pydantic, starlette and
uvicorn cost ~30 MiB and ~0.6 s of CPU to import, and an idle tray app serves nothing. So the app binds the port
at start (links and a second instance see it taken, exactly as before) and this object starts the real
:class:`~snaplark_server.runner.ServerThread` on that same socket when the first client connects, or earlier when
the app expects to need it (:meth:`warm`, e.g. while the user is still dragging a capture region). A connection
that arrives meanwhile waits in the listen backlog and is served once the server is up: nothing is refused.

This module imports nothing heavy; the runner (and with it uvicorn and the app) is imported by the activation
thread.

Threading: :meth:`start` and :meth:`stop` from one controlling thread; :meth:`warm` and :meth:`wait_active` from
any thread. One daemon thread (``snaplark-server-activation``) blocks in ``select`` on the listening socket and a
wake-up pipe -- no timer, no CPU while idle -- and exits once the server runs or on stop.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
from typing import Any, Callable

from .config import ServerConfig

log = logging.getLogger(__name__)


class ServerStartError(OSError):
    """The server could not start (port taken, start-up failed or timed out). An OSError, like a bind failure."""


def bind_listener(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = ephemeral); ServerStartError naming the address if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto set: asyncio enables TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot listen on {host}:{port}: {exc}") from exc
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


class ListeningAddress:
    """``url`` / ``api_url`` from ``host`` and ``port`` (set once listening)."""

    host: str
    port: int | None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/v1"


class SocketActivatedServer(ListeningAddress):
    """Same surface as ServerThread for its users (``start``/``stop``/``url``/``api_url``/``port``), plus
    ``warm()``, ``active`` and ``wait_active()``.

    ``before_start`` runs on the activation thread right before the server starts (the app registers the local
    user's token there). If activation fails, the error is logged, kept in :attr:`error`, and the socket is closed
    so that clients get "connection refused" (the upload engine then pauses as offline) instead of hanging.
    """

    def __init__(self, config: ServerConfig, *, before_start: Callable[[], None] | None = None,
                 start_timeout: float = 20.0) -> None:
        self.config = config
        self._before_start = before_start
        self._start_timeout = start_timeout
        self._lock = threading.Lock()
        self._active = threading.Event()
        self._sock: socket.socket | None = None
        self._wake: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.server: Any = None  # the ServerThread once active
        self.error: BaseException | None = None
        self.on_failed: Callable[[BaseException], None] | None = None  # called on the activation thread
        self.host = config.host
        self.port: int | None = None

    @property
    def active(self) -> bool:
        return self.server is not None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> "SocketActivatedServer":
        if self._sock is not None:
            raise RuntimeError("already started")
        self._sock = bind_listener(self.config.host, self.config.port)
        self.port = self._sock.getsockname()[1]
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._watch, name="snaplark-server-activation", daemon=True)
        self._thread.start()
        return self

    def warm(self) -> None:
        """Start the server now, in the background, if it is not running yet (returns at once)."""
        wake = self._wake
        if wake is not None and not self._active.is_set():
            try:
                os.write(wake[1], b"w")
            except OSError:  # stopped meanwhile
                pass

    def wait_active(self, timeout: float) -> bool:
        """Warm up and wait until the server serves (True) or activation failed / timed out (False)."""
        self.warm()
        return self._active.wait(timeout) and self.server is not None

    def _watch(self) -> None:
        assert self._sock is not None and self._wake is not None
        try:
            select.select([self._sock, self._wake[0]], [], [])
        except (OSError, ValueError):  # closed by stop()
            self._active.set()
            return
        self._activate()

    def _activate(self) -> None:
        with self._lock:
            if self._stopping or self.server is not None:
                self._active.set()
                return
            try:
                if self._before_start is not None:
                    self._before_start()
                from .runner import ServerThread  # the web stack, on first use

                self.server = ServerThread(self.config, sock=self._sock, start_timeout=self._start_timeout).start()
                log.info("embedded server woke up at %s", self.url)
            except BaseException as exc:  # noqa: BLE001 - reported to the log and kept; clients see refusals
                self.error = exc
                log.error("the embedded server could not start: %s", exc, exc_info=True)
                self._close_socket()
                if self.on_failed is not None:
                    self.on_failed(exc)
            finally:
                self._active.set()

    def _close_socket(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:  # waits for an activation in progress
            self._stopping = True
            server, self.server = self.server, None
        if self._wake is not None:
            try:
                os.write(self._wake[1], b"s")
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout / 2)
        if server is not None:
            server.stop(timeout)  # closes the socket it was given
        else:
            self._close_socket()
        if self._wake is not None:
            for fd in self._wake:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._wake = None
        self._thread = None

    def __enter__(self) -> "SocketActivatedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
