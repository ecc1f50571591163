"""One tray app per user: the first instance listens on a local socket; a second launch sends it a command
(``capture_region`` by default) and exits instead of starting twice.

Threading: ``serve`` runs an accept loop on its own daemon thread and hands each command to ``on_command``
(which must only post to the UI dispatcher). ``close`` stops it and removes the socket file.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

COMMANDS = frozenset({"capture_region", "capture_screen", "record_region", "record_screen", "stop_recording",
                      "toggle_pause", "quit", "ping"})
_UNIX = hasattr(socket, "AF_UNIX") and sys.platform != "win32"


class SingleInstance:
    def __init__(self, path: Path, *, timeout: float = 2.0):
        self.path = Path(path)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    # -- second instance -----------------------------------------------------------------------------------
    def send(self, command: str) -> str | None:
        """Send ``command`` to a running instance; returns its answer, or None when none runs."""
        if command not in COMMANDS:
            raise ValueError(f"unknown instance command {command!r}")
        try:
            with self._connect() as s:
                s.sendall(command.encode() + b"\n")
                return s.recv(64).decode(errors="replace").strip() or None
        except OSError:
            return None

    def _connect(self) -> socket.socket:
        if _UNIX:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            s.connect(str(self.path))
            return s
        port = int(self.path.read_text().strip())
        return socket.create_connection(("127.0.0.1", port), timeout=self.timeout)

    # -- first instance --------------------------------------------------------------------------------------
    def acquire(self) -> bool:
        """Become the instance; False if another live instance answers on the socket."""
        if self.send("ping") == "pong":
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if _UNIX:
            try:
                self.path.unlink()  # stale socket of a crashed instance (nobody answered the ping)
            except FileNotFoundError:
                pass
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(str(self.path))
            except OSError:
                sock.close()
                return False
            os.chmod(self.path, 0o600)
        else:  # pragma: no cover - Windows
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            self.path.write_text(str(sock.getsockname()[1]))
        sock.listen(4)
        sock.settimeout(0.5)
        self._sock = sock
        return True

    def serve(self, on_command: Callable[[str], None]) -> None:
        def loop() -> None:
            while not self._closing.is_set():
                try:
                    conn, _ = self._sock.accept()
                except (socket.timeout, TimeoutError):
                    continue
                except OSError:
                    return
                with conn:
                    try:
                        conn.settimeout(self.timeout)
                        command = conn.recv(64).decode(errors="replace").strip()
                        if command == "ping":
                            conn.sendall(b"pong\n")
                        elif command in COMMANDS:
                            conn.sendall(b"ok\n")
                            on_command(command)
                        else:
                            conn.sendall(b"unknown\n")
                    except OSError as exc:
                        log.debug("instance socket: %s", exc)

        self._thread = threading.Thread(target=loop, name="single-instance", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._thread.join(2.0)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
