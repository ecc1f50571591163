"""Run the server in-process: uvicorn in a daemon thread (what the desktop app embeds and what tests use).

    with ServerThread(ServerConfig(data_dir=..., port=0)) as srv:
        requests.get(srv.url + "/health")

Threading contract: `start()` / `stop()` are called from one controlling thread; the server runs on its own
daemon thread with its own event loop.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable

from .activation import ListeningAddress, ServerStartError, bind_listener
from .app import create_app
from .config import ServerConfig
from .connection_guard import ConnectionLimits, GuardedServer

__all__ = ["ServerStartError", "ServerThread", "make_uvicorn_server", "tune_uvicorn_flow_control"]


BODY_BUFFER_LIMIT = 256 * 1024


def tune_uvicorn_flow_control(limit: int = BODY_BUFFER_LIMIT) -> None:
    """Let uvicorn buffer up to ``limit`` request-body bytes per connection before it pauses reading (default
    64 KiB). Big uploads then cost a quarter of the event-loop wake-ups: ~10 % less server CPU per GiB ingested
    (benchmarks/server_ingest.py), for at most ``limit`` bytes of extra memory per active upload.
    uvicorn reads the limit from a module constant, so this is process-wide (only our server runs here)."""
    import importlib

    for name in ("uvicorn.protocols.http.httptools_impl", "uvicorn.protocols.http.h11_impl"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # httptools not installed, or a uvicorn without this module
            continue
        if isinstance(getattr(module, "HIGH_WATER_LIMIT", None), int):
            module.HIGH_WATER_LIMIT = max(module.HIGH_WATER_LIMIT, limit)


def make_uvicorn_server(app, config: ServerConfig, *, log_level: str, graceful_timeout: int) -> GuardedServer:
    """The uvicorn server both ways of running use (this thread and ``snaplark-server serve``): httptools under
    the connection limits of ``config`` (connection_guard.py), no access log."""
    tune_uvicorn_flow_control()
    return GuardedServer(app, ConnectionLimits.from_config(config), log_level=log_level, lifespan="on",
                         access_log=False, timeout_graceful_shutdown=graceful_timeout)


class ServerThread(ListeningAddress):
    def __init__(self, config: ServerConfig, *, clock: Callable[[], float] = time.time,
                 start_timeout: float = 20.0, log_level: str = "warning", sock: socket.socket | None = None,
                 free_space: Callable | None = None) -> None:
        """``sock``: an already listening socket to serve on (socket activation); else ``start`` binds one.
        ``free_space(path) -> bytes``: how the app measures free disk space (tests fake a full disk)."""
        self.config = config
        self._free_space = free_space
        self._given_sock = sock
        self._clock = clock
        self._start_timeout = start_timeout
        self._log_level = log_level
        self._server: GuardedServer | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.app = None
        self.host = config.host
        self.port: int | None = None

    @property
    def service(self):
        return self.app.state.service if self.app is not None else None

    @property
    def connection_guard(self):
        """The `ConnectionGuard` of the running server (its ``limits`` and ``counts``), else None."""
        return self._server.guard if self._server is not None else None

    @property
    def faults(self):
        """The `FaultInjector` (None unless ``config.fault_injection``)."""
        return self.app.state.faults if self.app is not None else None

    def start(self) -> "ServerThread":
        if self._thread is not None:
            raise RuntimeError("already started")
        sock = self._given_sock or bind_listener(self.config.host, self.config.port)
        self._sock = sock
        self.port = sock.getsockname()[1]
        try:
            self.app = create_app(self.config, clock=self._clock, free_space=self._free_space)
        except BaseException:
            sock.close()
            self._sock = None
            self.port = None
            raise
        self._server = make_uvicorn_server(self.app, self.config, log_level=self._log_level, graceful_timeout=2)
        self._thread = threading.Thread(target=self._run, name=f"snaplark-server:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise ServerStartError("server thread exited during start-up")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError("server did not start in time")
            time.sleep(0.01)
        return self

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except SystemExit:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout / 2)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout / 2)
        if self._sock is not None:
            self._sock.close()
        try:
            self.app.state.db.close()
        except Exception:
            pass
        self._thread = None
        self._server = None

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
