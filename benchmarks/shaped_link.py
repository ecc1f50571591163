"""A shaped network link for benchmarks: a throttling TCP proxy (token bucket upstream, fixed delay both ways).

    python benchmarks/shaped_link.py serve --target 127.0.0.1:8765 --up-mbit 10 --rtt-ms 40   # prints "listening PORT"
    python benchmarks/shaped_link.py selftest [--up-mbit 10 --rtt-ms 40 --mib 256]            # calibration, ~10 s

Model (client = whoever connects to the proxy, server = ``--target``), one link shared by every connection:
  client -> server: the bytes pass a token bucket of ``--up-mbit`` (burst one 16 KiB slice), then wait RTT/2;
  server -> client: unshaped (``--down-mbit`` to shape it too), then wait RTT/2;
  a new connection's first byte leaves the client only one RTT after the accept (the SYN / SYN-ACK round trip).
The bucket is drained by the proxy's reader thread before it reads more, so a backlog stays where it would on a real
uplink: in the client's socket buffers (its ``send`` blocks), not in an unbounded proxy queue. The delay line holds
at most ``QUEUE_LIMIT`` bytes per direction. Every wait is bounded (select / Condition timeouts, 120 s socket
timeouts). Not modelled: loss, jitter, TCP slow start over the RTT (the proxy terminates TCP on both sides; at a
50 KB bandwidth-delay product slow start would add about two RTTs per fresh connection).

Why a proxy and not ``tc``: the kernel here has no netem (``tc qdisc add ... netem`` -> "Specified qdisc kind is
unknown"; CONFIG_NET_SCH_NETEM is not set, only tbf/htb are built in), so a network namespace could shape the rate
but could not add the RTT. The proxy does both, needs no root, and runs wherever the benchmark runs. It runs in its
own process (its GIL and CPU are not the client's); ``selftest`` measures its unshaped throughput (it must be far
above the shaped rate, so the proxy is never the bottleneck) and the shaped link's real rate and RTT.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

SLICE = 16 * 1024  # shaped direction: one bucket reservation (1.3 ms at 100 Mbit/s, 13 ms at 10 Mbit/s)
FAST_SLICE = 256 * 1024  # unshaped direction
QUEUE_LIMIT = 4 * 1024 * 1024  # bytes waiting in one direction's delay line
POLL = 0.5  # bound of every idle wait
SOCKET_TIMEOUT = 120.0  # bound of one blocking send / connect


class TokenBucket:
    """Reservation token bucket: ``reserve(n)`` returns the time at which ``n`` bytes have passed the link."""

    def __init__(self, rate_bytes_s: float, burst: int = SLICE):
        self.rate = float(rate_bytes_s)
        self.burst = burst
        self._tokens = float(burst)
        self._t = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self, n: int) -> float:
        with self._lock:
            now = max(time.monotonic(), self._t)
            self._tokens = min(self.burst, self._tokens + (now - self._t) * self.rate) - n
            self._t = now
            return now if self._tokens >= 0 else now + -self._tokens / self.rate


class _Pump:
    """One direction of one connection: the reader (recv -> bucket -> stamp "deliver at") and the writer (sleep
    until then -> sendall)."""

    def __init__(self, conn: "_Connection", src: socket.socket, dst: socket.socket, bucket: TokenBucket | None,
                 delay: float, not_before: float, chunk: int, name: str):
        self.conn, self.src, self.dst = conn, src, dst
        self.bucket, self.delay, self.not_before, self.chunk = bucket, delay, not_before, chunk
        self.queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.queued = 0
        self.cond = threading.Condition()
        self.bytes = 0
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._read, name=f"{name}-read", daemon=True),
                        threading.Thread(target=self._write, name=f"{name}-write", daemon=True)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def _push(self, at: float, data: bytes | None) -> None:
        with self.cond:
            while data is not None and self.queued >= QUEUE_LIMIT and not self.conn.closed:
                self.cond.wait(POLL)
            self.queue.append((at, data))
            self.queued += len(data or b"")
            self.cond.notify_all()

    def _read(self) -> None:
        try:
            wait = self.not_before - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            while not self.conn.closed:
                if not select.select([self.src], [], [], POLL)[0]:
                    continue
                data = self.src.recv(self.chunk)
                if not data:
                    break
                passed = self.bucket.reserve(len(data)) if self.bucket else time.monotonic()
                wait = passed - time.monotonic()
                if wait > 0:
                    time.sleep(wait)  # the link is busy with these bytes: read nothing more meanwhile
                self._push(passed + self.delay, data)
        except OSError:
            self.conn.abort()
        finally:
            self._push(time.monotonic() + self.delay, None)

    def _write(self) -> None:
        try:
            while True:
                with self.cond:
                    while not self.queue and not self.conn.closed:
                        self.cond.wait(POLL)
                    if not self.queue:
                        return
                    at, data = self.queue.popleft()
                    self.queued -= len(data or b"")
                    self.cond.notify_all()
                wait = at - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if data is None:
                    try:
                        self.dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                self.dst.sendall(data)
                self.bytes += len(data)
                self.conn.link.count(self, len(data))
        except OSError:
            self.conn.abort()
        finally:
            self.done.set()
            self.conn.pump_done()


class _Connection:
    def __init__(self, link: "ShapedLink", client: socket.socket, server: socket.socket, accepted: float):
        self.link, self.client, self.server = link, client, server
        self.closed = False
        self._lock = threading.Lock()
        half = link.rtt / 2
        self.up = _Pump(self, client, server, link.up_bucket, half, accepted + link.rtt, SLICE, "up")
        self.down = _Pump(self, server, client, link.down_bucket, half, 0.0,
                          SLICE if link.down_bucket else FAST_SLICE, "down")

    def start(self) -> None:
        self.up.start()
        self.down.start()

    def pump_done(self) -> None:
        if self.up.done.is_set() and self.down.done.is_set():
            self.abort()

    def abort(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.server):
            try:
                s.close()
            except OSError:
                pass
        self.link.forget(self)


class ShapedLink:
    """The proxy: listens on 127.0.0.1:``port`` (0 = free port), forwards to ``target``."""

    def __init__(self, target: tuple[str, int], up_mbit: float | None, rtt_ms: float, *,
                 down_mbit: float | None = None, port: int = 0):
        self.target = target
        self.rtt = rtt_ms / 1000.0
        self.up_bucket = TokenBucket(up_mbit * 1e6 / 8) if up_mbit else None
        self.down_bucket = TokenBucket(down_mbit * 1e6 / 8) if down_mbit else None
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(POLL)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conns: set[_Connection] = set()
        self.stats = {"connections": 0, "bytes_up": 0, "bytes_down": 0}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="shaped-link-accept", daemon=True)

    def start(self) -> "ShapedLink":
        self._thread.start()
        return self

    def count(self, pump: _Pump, n: int) -> None:
        with self._lock:
            self.stats["bytes_up" if pump is pump.conn.up else "bytes_down"] += n

    def forget(self, conn: _Connection) -> None:
        with self._lock:
            self.conns.discard(conn)

    def _accept(self) -> None:
        while not self.stopping:
            try:
                client, _ = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            accepted = time.monotonic()
            try:
                server = socket.create_connection(self.target, timeout=SOCKET_TIMEOUT)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.settimeout(SOCKET_TIMEOUT)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self, client, server, accepted)
            with self._lock:
                self.conns.add(conn)
                self.stats["connections"] += 1
            conn.start()

    def stop(self) -> None:
        self.stopping = True
        self._thread.join(POLL * 4)
        self.sock.close()
        with self._lock:
            conns = list(self.conns)
        for c in conns:
            c.abort()


# ---------------------------------------------------------------------------------------- child process handling
class LinkProcess:
    """``serve`` in a child process (its own GIL and CPU); ``cpu_s()`` = the child's CPU seconds so far."""

    def __init__(self, target: tuple[str, int], up_mbit: float | None, rtt_ms: float,
                 down_mbit: float | None = None):
        cmd = [sys.executable, str(Path(__file__).resolve()), "serve", "--target", f"{target[0]}:{target[1]}",
               "--rtt-ms", str(rtt_ms)]
        if up_mbit:
            cmd += ["--up-mbit", str(up_mbit)]
        if down_mbit:
            cmd += ["--down-mbit", str(down_mbit)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     preexec_fn=_die_with_parent)
        line = _readline(self.proc, 20.0)
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"shaped link did not start: {line!r}")
        self.port = int(line.split()[1])

    def cpu_s(self) -> float:
        import psutil

        t = psutil.Process(self.proc.pid).cpu_times()
        return t.user + t.system

    def stats(self) -> dict:
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return json.loads(_readline(self.proc, 10.0))

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return out[0].strip() if out else ""


def serve(a: argparse.Namespace) -> int:
    host, port = a.target.rsplit(":", 1)
    link = ShapedLink((host, int(port)), a.up_mbit, a.rtt_ms, down_mbit=a.down_mbit, port=a.port).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"listening {link.port}", flush=True)
    while not stop.is_set():
        if not select.select([sys.stdin], [], [], POLL)[0]:
            continue
        cmd = sys.stdin.readline()
        if not cmd:  # the parent closed the pipe (or died)
            break
        if cmd.strip() == "stats":
            with link._lock:
                stats = dict(link.stats, open=len(link.conns))
            print(json.dumps(stats), flush=True)
    link.stop()
    return 0


# ---------------------------------------------------------------------------------------- calibration
class _SinkServer:
    """Framed requests: 8-byte big-endian length L, then L bytes; answers one byte once all L arrived."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(POLL)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            c.settimeout(SOCKET_TIMEOUT)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket) -> None:
        buf = bytearray(1 << 20)
        try:
            with c:
                while True:
                    head = _recv_exact(c, 8)
                    if head is None:
                        return
                    left = int.from_bytes(head, "big")
                    while left:
                        n = c.recv_into(buf, min(left, len(buf)))
                        if not n:
                            return
                        left -= n
                    c.sendall(b"k")
        except OSError:
            return

    def stop(self) -> None:
        self.stopping = True
        self.sock.close()


def _recv_exact(c: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        part = c.recv(n - len(data))
        if not part:
            return None
        data += part
    return data


def _request(c: socket.socket, nbytes: int, block: memoryview) -> float:
    t0 = time.perf_counter()
    c.sendall(nbytes.to_bytes(8, "big"))
    left = nbytes
    while left:
        n = min(left, len(block))
        c.sendall(block[:n])
        left -= n
    if _recv_exact(c, 1) != b"k":
        raise RuntimeError("calibration sink closed the connection")
    return time.perf_counter() - t0


def calibrate(up_mbit: float, rtt_ms: float, mib: int = 256, shaped_mib: int = 5) -> dict:
    """The proxy's own speed unshaped (``mib`` MiB through it, with its CPU seconds) and the shaped link's RTT and
    rate (``shaped_mib`` MiB through it, after the connection is up)."""
    sink = _SinkServer()
    block = memoryview(os.urandom(4 << 20))
    out: dict = {}
    try:
        link = LinkProcess(("127.0.0.1", sink.port), None, 0.0)
        try:
            with socket.create_connection(("127.0.0.1", link.port), timeout=SOCKET_TIMEOUT) as c:
                _request(c, 1 << 20, block)  # warm-up
                cpu0 = link.cpu_s()
                secs = _request(c, mib << 20, block)
                cpu = link.cpu_s() - cpu0
            out["unshaped"] = {"mib": mib, "seconds": secs, "mbit_s": mib * 8 * 1.048576 / secs,
                               "proxy_cpu_s": cpu, "proxy_cpu_s_per_gib": cpu * 1024 / mib,
                               "proxy_core_share_at_shaped_rate": cpu / (mib * 8 * 1.048576) * up_mbit}
        finally:
            link.stop()
        with socket.create_connection(("127.0.0.1", sink.port), timeout=SOCKET_TIMEOUT) as c:
            _request(c, 1 << 20, block)
            t_direct = _request(c, mib << 20, block)
        out["unshaped"]["direct_mbit_s"] = mib * 8 * 1.048576 / t_direct
        link = LinkProcess(("127.0.0.1", sink.port), up_mbit, rtt_ms)
        try:
            t0 = time.perf_counter()
            with socket.create_connection(("127.0.0.1", link.port), timeout=SOCKET_TIMEOUT) as c:
                _request(c, 0, block)
                first = time.perf_counter() - t0  # connect + first request: 2 RTT
                pings = [_request(c, 0, block) for _ in range(5)]
                cpu0 = link.cpu_s()
                bulk = _request(c, shaped_mib << 20, block)
                cpu = link.cpu_s() - cpu0
            rtt = statistics.median(pings)
            wire = bulk - rtt  # last byte's one-way delay + the answer's
            out["shaped"] = {"up_mbit": up_mbit, "rtt_ms": rtt_ms, "first_request_s": first, "rtt_s": rtt,
                             "mib": shaped_mib, "seconds": bulk,
                             "expected_s": (shaped_mib << 20) * 8 / (up_mbit * 1e6) + rtt_ms / 1000,
                             "mbit_s": (shaped_mib << 20) * 8 / 1e6 / wire, "proxy_cpu_s": cpu}
        finally:
            link.stop()
    finally:
        sink.stop()
    return out


def fmt_calibration(c: dict) -> list[str]:
    u, s = c["unshaped"], c["shaped"]
    return [
        f"shaped link, unshaped self-check: {u['mib']} MiB through the proxy in {u['seconds']:.2f} s = "
        f"{u['mbit_s']:.0f} Mbit/s (direct loopback {u['direct_mbit_s']:.0f} Mbit/s), proxy CPU {u['proxy_cpu_s']:.2f} s"
        f" = {u['proxy_cpu_s_per_gib']:.2f} s/GiB -> {100 * u['proxy_core_share_at_shaped_rate']:.2f} % of a core "
        f"at {s['up_mbit']:g} Mbit/s",
        f"shaped link {s['up_mbit']:g} Mbit/s up, RTT {s['rtt_ms']:g} ms: first request on a new connection "
        f"{1000 * s['first_request_s']:.1f} ms (2 RTT), RTT measured {1000 * s['rtt_s']:.1f} ms, {s['mib']} MiB in "
        f"{s['seconds']:.3f} s (expected {s['expected_s']:.3f} s) = {s['mbit_s']:.2f} Mbit/s on the wire, proxy CPU "
        f"{s['proxy_cpu_s']:.3f} s",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("serve")
    sp.add_argument("--target", required=True, help="host:port to forward to")
    sp.add_argument("--port", type=int, default=0)
    for p in (sp, sub.add_parser("selftest")):
        p.add_argument("--up-mbit", type=float, default=None if p is sp else 10.0)
        p.add_argument("--down-mbit", type=float)
        p.add_argument("--rtt-ms", type=float, default=0.0 if p is sp else 40.0)
    sub.choices["selftest"].add_argument("--mib", type=int, default=256)
    a = ap.parse_args()
    if a.cmd == "serve":
        return serve(a)
    c = calibrate(a.up_mbit, a.rtt_ms, a.mib)
    for line in fmt_calibration(c):
        print(line)
    print(json.dumps(c, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
