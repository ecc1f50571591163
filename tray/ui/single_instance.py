"""One tray app per user: the first instance listens on a local socket in the data dir; a later launch hands over to
it (:meth:`SingleInstance.hand_over`) instead of starting twice.

Protocol: one line each way (file-system encoding, at most ``MAX_LINE`` bytes).

==========================  ========================================================================================
request                     answer
==========================  ========================================================================================
``ping``                    ``pong``
``launch <settings file>``  ``ok`` when the running app uses the same settings file: it captures a region (what
                            launching Snaplark again has always meant). ``config <its settings file>`` when it uses
                            another one: nothing happens there, and the new launch tells the user and exits 1 (two
                            apps with different settings would share the journal and fight over the hotkeys).
one of ``COMMANDS``         ``ok``; the command runs in the running app
anything else               ``unknown``
==========================  ========================================================================================

Threading: ``acquire`` starts the accept loop on a daemon thread at once, so a launch during the first instance's
start-up is answered too; commands accepted before ``serve(on_command)`` are held and handed over when it is called.
``on_command`` runs on the socket thread (or on ``serve``'s caller for held ones) and must only post to the UI
dispatcher. ``close`` stops the loop and removes the socket file.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Callable, TextIO

log = logging.getLogger(__name__)

COMMANDS = frozenset({"capture_region", "capture_screen", "record_region", "record_screen", "stop_recording",
                      "toggle_pause", "quit", "open_history", "open_settings"})
LAUNCH_COMMAND = "capture_region"  # what a second launch with the same settings file asks for
MAX_LINE = 4096
EXIT_OTHER_INSTANCE = 1
_UNIX = hasattr(socket, "AF_UNIX") and sys.platform != "win32"


def default_path() -> Path:
    """The running tray app's socket: in the data dir (so one app per data dir, whatever the settings file)."""
    from tray import paths

    return paths.data_dir() / "instance.sock"


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _read_line(sock: socket.socket) -> str:
    data = b""
    while b"\n" not in data and len(data) < MAX_LINE:
        chunk = sock.recv(MAX_LINE - len(data))
        if not chunk:
            break
        data += chunk
    return os.fsdecode(data.split(b"\n", 1)[0]).strip()


class SingleInstance:
    """``path``: the socket (a port file on Windows). ``config_file``: the settings file this launch uses (None =
    the default one); compared, resolved, with the running instance's."""

    def __init__(self, path: Path, *, config_file: Path | None = None, timeout: float = 2.0):
        self.path = Path(path)
        self.config_file = config_file
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._on_command: Callable[[str], None] | None = None
        self._held: list[str] = []  # commands accepted before serve()
        self._own_config: Path | None = None

    def _config(self) -> Path:
        if self.config_file is not None:
            return _absolute(self.config_file)
        from tray import paths

        return _absolute(paths.config_file())

    # -- second instance -----------------------------------------------------------------------------------
    def send(self, command: str) -> str | None:
        """Send ``command`` (one of ``COMMANDS`` or ``ping``) to a running instance; returns its answer, or None
        when none answers."""
        if command not in COMMANDS and command != "ping":
            raise ValueError(f"unknown instance command {command!r}")
        return self._request(command)

    def _request(self, line: str) -> str | None:
        try:
            with self._connect() as s:
                s.sendall(os.fsencode(line) + b"\n")
                return _read_line(s) or None
        except (OSError, ValueError):
            return None

    def hand_over(self, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
        """For a launch that could not :meth:`acquire`: tell the running instance about it and the user what
        happened. Returns this process's exit status: 0 when the running app (same settings file) captures a region;
        ``EXIT_OTHER_INSTANCE`` when it uses another settings file, does not answer or does not understand."""
        out = sys.stdout if out is None else out
        err = sys.stderr if err is None else err
        ours = self._config()
        answer = self._request(f"launch {os.fsdecode(ours)}")
        if answer == "ok":
            print("Snaplark is already running; asked it to capture a region.", file=out)
            return 0
        if answer is not None and answer.startswith("config "):
            theirs = answer.partition(" ")[2]
            print(f"snaplark: another Snaplark is already running with the settings file {theirs}; this launch "
                  f"uses {ours}. Only one tray app runs at a time: quit the running one (tray menu: Quit) and "
                  "start this one again.", file=err)
            return EXIT_OTHER_INSTANCE
        if answer is None:
            print("snaplark: another Snaplark is running but does not answer (still starting?); try again in a "
                  "moment.", file=err)
        else:
            print(f"snaplark: another Snaplark is running but did not understand this launch ({answer!r}: an older "
                  "version?); quit it (tray menu: Quit) and start again.", file=err)
        return EXIT_OTHER_INSTANCE

    def _connect(self) -> socket.socket:
        if _UNIX:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            try:
                s.connect(str(self.path))
            except OSError:
                s.close()
                raise
            return s
        port = int(self.path.read_text().strip())
        return socket.create_connection(("127.0.0.1", port), timeout=self.timeout)

    def _someone_listens(self) -> bool:
        """True when a live instance holds the socket -- even one too busy to answer (its socket file must not be
        taken over); False when nobody does (no file, or a stale one of a crashed instance)."""
        try:
            s = self._connect()
        except (FileNotFoundError, ConnectionRefusedError, ValueError):
            return False
        except OSError:  # e.g. a full backlog or a timeout: somebody is there
            return True
        with s:
            try:
                s.sendall(b"ping\n")
                _read_line(s)
            except OSError:
                pass
        return True

    # -- first instance --------------------------------------------------------------------------------------
    def acquire(self) -> bool:
        """Become the instance and start answering on the socket; False if another live instance holds it."""
        if self._someone_listens():
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if _UNIX:
            try:
                self.path.unlink()  # stale socket of a crashed instance (nobody listens on it)
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
        self._own_config = self._config()
        self._thread = threading.Thread(target=self._loop, name="single-instance", daemon=True)
        self._thread.start()
        return True

    def serve(self, on_command: Callable[[str], None]) -> None:
        """Hand commands to ``on_command`` from now on, starting with those that arrived during start-up."""
        with self._lock:
            self._on_command = on_command
            held, self._held = self._held, []
        for command in held:
            on_command(command)

    def _deliver(self, command: str) -> None:
        with self._lock:
            on_command = self._on_command
            if on_command is None:
                self._held.append(command)
                return
        on_command(command)

    def _answer(self, line: str) -> str:
        verb, _, arg = line.partition(" ")
        if line == "ping":
            return "pong"
        if verb == "launch" and arg:
            theirs = _absolute(Path(arg))
            if theirs != self._own_config:
                log.warning("another launch with the settings file %s was told to quit: this instance uses %s",
                            theirs, self._own_config)
                return f"config {os.fsdecode(self._own_config)}"
            log.info("another launch with the same settings file: %s", LAUNCH_COMMAND)
            self._deliver(LAUNCH_COMMAND)
            return "ok"
        if line in COMMANDS:
            self._deliver(line)
            return "ok"
        return "unknown"

    def _loop(self) -> None:
        while not self._closing.is_set():
            sock = self._sock
            if sock is None:
                return
            try:
                conn, _ = sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(self.timeout)
                    conn.sendall(os.fsencode(self._answer(_read_line(conn))) + b"\n")
                except OSError as exc:
                    log.debug("instance socket: %s", exc)

    def close(self) -> None:
        """Stop answering and remove the socket file -- only if this object acquired it (a launch that handed over
        must not remove the running instance's socket)."""
        self._closing.set()
        if self._sock is None:
            return
        self._sock.close()
        self._sock = None
        if self._thread is not None:
            self._thread.join(2.0)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
