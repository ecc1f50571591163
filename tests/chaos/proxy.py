"""A fault-injecting TCP proxy for chaos tests: sits between the client and the real server on an ephemeral port.

Modes (switch at any time with :meth:`ChaosProxy.set_mode`):

``pass``      forward both ways.
``reset``     after ``nbytes`` more client→server bytes, abort both connections with RST (SO_LINGER 0);
              ``times`` resets, each ``nbytes`` after the previous one, then back to ``pass``.
``stall``     accept and hold: nothing is forwarded either way (the client's read timeout must fire).
``refuse``    offline: new connections are reset at once and live ones are cut.
``corrupt``   flip one byte at the ``nbytes``-th client→server byte from now (the server's sha256 check fails);
              ``times`` corruptions, then back to ``pass``.

5xx bursts come from the server's own fault hook (``POST /_faults``), not from here.

Threading: one accept thread plus one thread per connection; mode changes are guarded by a lock and seen by the
connection threads within ~50 ms. Every socket operation and wait is bounded; :meth:`stop` joins everything.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time

MODES = ("pass", "reset", "stall", "refuse", "corrupt")


def _rst(sock: socket.socket) -> None:
    """Close with RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class ChaosProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self._lock = threading.Lock()
        self._mode = "pass"
        self._budget = 0
        self._interval = 0
        self._times = 0
        self._generation = 0  # bumps on every mode change: live connections re-check what to do
        self._stopping = False
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._conns: set[threading.Thread] = set()
        self.port: int | None = None
        self.stats = {"connections": 0, "resets": 0, "refused": 0, "corrupted": 0, "stalled": 0, "bytes_up": 0}

    # ------------------------------------------------------------------ control
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/v1"

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    def set_mode(self, mode: str, *, nbytes: int = 0, times: int = 1, first: int | None = None) -> None:
        """``first``: bytes before the first fault when it differs from the interval ``nbytes``."""
        if mode not in MODES:
            raise ValueError(f"unknown proxy mode {mode!r}")
        with self._lock:
            self._mode = mode
            self._budget = nbytes if first is None else first
            self._interval = nbytes
            self._times = times
            self._generation += 1

    def start(self) -> "ChaosProxy":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.settimeout(0.1)
        self._listener = sock
        self.port = sock.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, name=f"chaos-proxy:{self.port}",
                                               daemon=True)
        self._accept_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        if self._listener is not None:
            self._listener.close()
        deadline = time.monotonic() + timeout
        for t in list(self._conns):
            t.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> "ChaosProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ data path
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.stats["connections"] += 1
            if self.mode == "refuse":
                self.stats["refused"] += 1
                _rst(client)
                continue
            t = threading.Thread(target=self._serve, args=(client,), name="chaos-proxy-conn", daemon=True)
            self._conns.add(t)
            t.start()

    def _take_upstream(self, data: bytes) -> tuple[bytes, str | None]:
        """Apply reset/corrupt budgets to client→server bytes. Returns (bytes to forward, action after)."""
        with self._lock:
            mode = self._mode
            if mode not in ("reset", "corrupt") or self._times <= 0:
                return data, None
            if len(data) < self._budget or (mode == "corrupt" and len(data) == self._budget):
                self._budget -= len(data)
                return data, None
            cut = self._budget
            self._times -= 1
            if self._times <= 0:
                self._mode = "pass"
            else:
                self._budget = self._interval  # the next fault comes nbytes after this one
            if mode == "reset":
                self.stats["resets"] += 1
                return data[:cut], "reset"
            self.stats["corrupted"] += 1
            flipped = bytearray(data)
            flipped[cut] ^= 0xFF
            return bytes(flipped), None

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _rst(client)
                return
            client.settimeout(5)
            upstream.settimeout(5)
            stalled = False
            while not self._stopping:
                mode = self.mode
                if mode == "refuse":
                    _rst(client)
                    _rst(upstream)
                    return
                if mode == "stall":
                    if not stalled:
                        self.stats["stalled"] += 1
                    stalled = True
                    time.sleep(0.05)
                    continue
                if stalled:  # the client has given up on this connection by now: end it
                    _rst(client)
                    _rst(upstream)
                    return
                readable, _, _ = select.select([client, upstream], [], [], 0.05)
                for sock in readable:
                    try:
                        data = sock.recv(256 * 1024)
                    except OSError:
                        data = b""
                    if not data:
                        client.close()
                        upstream.close()
                        return
                    if sock is client:
                        data, action = self._take_upstream(data)
                        self.stats["bytes_up"] += len(data)
                        if data:
                            upstream.sendall(data)
                        if action == "reset":
                            _rst(client)
                            _rst(upstream)
                            return
                    else:
                        client.sendall(data)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
            self._conns.discard(threading.current_thread())
