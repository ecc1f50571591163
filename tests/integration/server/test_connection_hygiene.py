"""Connection hygiene of the reference server (issue 16): what a client without a token can do to it.

The server runs as a separate process (``python -m snaplark_server serve``) so that its file-descriptor limit,
its memory and its log are its own: ``ulimit -n 1024`` is set in the child, VmRSS is read from
``/proc/<pid>/status``, and stderr goes to a file whose size is checked.

- 1,100 slow-header connections (more than the fd limit) while a normal upload and ``/health`` still succeed, and
  the log stays small;
- a 64 MB request head is refused (431 or a close) without the server's memory growing;
- a body trickled at 1 byte/s is cut at the body timeout;
- an unauthenticated POST gets its 401 before the body is sent, and the connection is closed.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from .conftest import SEED_INIT, make_parts, sha, stop_process

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses setrlimit and /proc (Linux)")

SERVER_NOFILE = 1024
ATTACK_CONNECTIONS = 1100
SLOW_HEAD = b"POST /api/v1/videos/chunk HTTP/1.1\r\nHost: victim\r\nUser-Agent: slowloris\r\n"


# --- the server as a child process with its own fd limit and log file --------------------------------------------


def _fd_limit(soft: int, hard: int):
    def preexec() -> None:  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return preexec


def _add_user(data_dir: Path) -> str:
    out = subprocess.run([sys.executable, "-m", "snaplark_server", "--data-dir", str(data_dir), "user", "add", "alice"],
                         capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip().splitlines()[-1]


class ServerProcess:
    def __init__(self, tmp_path: Path, config: str = "", nofile: tuple[int, int] | None = None) -> None:
        self.data_dir = tmp_path / "data"
        self.token = _add_user(self.data_dir)
        self.log_path = tmp_path / "server.log"
        cfg = tmp_path / "server.toml"
        cfg.write_text("[server]\nmin_part_size = 1024\n" + config)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "snaplark_server", "--data-dir", str(self.data_dir), "--config", str(cfg),
             "serve", "--port", "0"],
            stdout=subprocess.PIPE, stderr=self._log, text=True, preexec_fn=_fd_limit(*nofile) if nofile else None)
        deadline = time.monotonic() + 30
        self.url = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "listening on" in line:
                self.url = line.strip().rsplit(" ", 1)[-1]
                break
            if not line and self.proc.poll() is not None:
                break
        if self.url is None:
            self.stop()
            raise RuntimeError(f"server did not start; log: {self.log_path.read_text()[-2000:]}")
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except requests.exceptions.ConnectionError:
                time.sleep(0.05)
        u = urlparse(self.url)
        self.addr = (u.hostname, u.port)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        stop_process(self.proc)
        self._log.close()


@pytest.fixture
def server_process(tmp_path):
    started: list[ServerProcess] = []

    def start(config: str = "", nofile: tuple[int, int] | None = None) -> ServerProcess:
        s = ServerProcess(tmp_path, config, nofile)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def _raise_own_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"the test process needs {need} file descriptors; hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


# --- a slowloris attacker ----------------------------------------------------------------------------------------


class SlowHeaderAttack(threading.Thread):
    """Keeps ``count`` connections open, each with a request head that never ends: one more header line per
    connection every ``interval`` seconds; a connection the server closed is opened again (at most once per
    interval), as a real slowloris tool does."""

    def __init__(self, addr: tuple[str, int], count: int, interval: float = 1.0) -> None:
        super().__init__(name="slowloris", daemon=True)
        self.addr = addr
        self.count = count
        self.interval = interval
        self.socks: list[socket.socket | None] = [None] * count
        self.opened = 0
        self.connect_failures = 0
        self.ready = threading.Event()
        self._halt = threading.Event()

    def _open(self) -> socket.socket | None:
        try:
            s = socket.create_connection(self.addr, timeout=3)
            s.sendall(SLOW_HEAD)
            s.settimeout(0.2)
            self.opened += 1
            return s
        except OSError:
            self.connect_failures += 1
            return None

    def run(self) -> None:
        for i in range(self.count):
            if self._halt.is_set():
                break
            self.socks[i] = self._open()
        self.ready.set()
        while not self._halt.wait(self.interval):
            for i, s in enumerate(self.socks):
                if self._halt.is_set():
                    break
                if s is not None:
                    try:
                        s.send(b"X-Slow: 1\r\n")
                        continue
                    except OSError:
                        s.close()
                self.socks[i] = self._open()

    def stop(self) -> None:
        self._halt.set()
        self.join(30)
        for s in self.socks:
            if s is not None:
                s.close()


def _upload_small_file(srv: ServerProcess) -> None:
    """init -> chunk -> finalize of a 3-part file, with requests (what a real client does)."""
    parts = make_parts([2048, 2048, 1000], seed=16)
    r = requests.post(srv.url + "/api/v1/videos/init", json=SEED_INIT, headers=srv.headers, timeout=10)
    assert r.status_code == 200, r.text
    sid = r.json()["sessionId"]
    for i, data in enumerate(parts):
        r = requests.post(srv.url + "/api/v1/videos/chunk", headers=srv.headers, timeout=10,
                          data={"sessionId": sid, "chunkIndex": str(i), "sha256": sha(data)},
                          files={"chunk": (f"chunk_{i}.webm", data, "video/webm")})
        assert r.status_code == 200, r.text
    r = requests.post(srv.url + "/api/v1/videos/finalize", headers=srv.headers, timeout=10,
                      json={"sessionId": sid, "totalChunks": 3, "uploadedChunks": [0, 1, 2], "duration": 1.0,
                            "metadata": {}, "sha256": sha(b"".join(parts))})
    assert r.status_code == 200, r.text
    got = requests.get(r.json()["url"], timeout=10)
    assert got.status_code == 200 and got.content == b"".join(parts)


# --- 1. more slow-header connections than file descriptors ---------------------------------------------------------


def test_slow_header_flood_over_fd_limit_keeps_health_and_uploads_served(server_process):
    _raise_own_fd_limit(ATTACK_CONNECTIONS + 300)
    srv = server_process(nofile=(SERVER_NOFILE, SERVER_NOFILE))  # soft and hard: the server cannot raise it
    attack = SlowHeaderAttack(srv.addr, ATTACK_CONNECTIONS)
    attack.start()
    try:
        assert attack.ready.wait(120), "the attacker could not open its connections"
        time.sleep(1.5)  # the server now holds (or has shed) more connections than it has descriptors
        assert attack.opened >= SERVER_NOFILE, f"only {attack.opened} attack connections opened"
        for _ in range(3):
            r = requests.get(srv.url + "/api/v1/health", timeout=5)
            assert r.status_code == 200 and r.json() == {"status": "ok"}
        _upload_small_file(srv)
        r = requests.get(srv.url + "/health", timeout=5)
        assert r.status_code == 200
        time.sleep(3)  # the attack goes on; the log must not grow with it
    finally:
        attack.stop()
    srv.stop()
    size = srv.log_path.stat().st_size
    assert size < 1_000_000, f"server log grew to {size} bytes during the attack"
    assert "Traceback" not in srv.log_path.read_text(errors="replace")


def test_server_raises_a_low_soft_fd_limit_to_its_hard_limit(server_process):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"hard fd limit {hard} < 4096")
    srv = server_process(nofile=(SERVER_NOFILE, 4096))
    limits = Path(f"/proc/{srv.proc.pid}/limits").read_text()
    assert any(line.startswith("Max open files") and line.split()[3] == "4096" for line in limits.splitlines()), limits
    srv.stop()
    assert "open-files limit raised from 1024 to 4096" in srv.log_path.read_text()


# --- 2. head size, body rate, unauthenticated bodies ----------------------------------------------------------------


def _send_until_refused(sock: socket.socket, data: bytes, total: int, block: int = 256 * 1024) -> int:
    """Send ``data`` then up to ``total`` bytes of filler; returns how many bytes went out before the server
    closed (or all of them)."""
    sent = 0
    sock.sendall(data)
    filler = b"a" * block
    try:
        while sent < total:
            n = sock.send(filler[: min(block, total - sent)])
            sent += n
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    return sent


def _read_response_or_close(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes (or ``timeout``); b'' = closed without an answer."""
    sock.settimeout(0.5)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return out
        if not data:
            return out
        out += data
    raise AssertionError(f"connection still open after {timeout} s; received {out[:200]!r}")


def test_64_mb_request_head_is_refused_without_memory_growth(server_process):
    srv = server_process()
    requests.get(srv.url + "/health", timeout=5)
    before = srv.rss_kib()
    sock = socket.create_connection(srv.addr, timeout=10)
    try:
        t0 = time.monotonic()
        sent = _send_until_refused(sock, b"GET /health HTTP/1.1\r\nHost: victim\r\nX-Big: ", 64 * 1024 * 1024)
        elapsed = time.monotonic() - t0
        time.sleep(0.5)  # let the server parse what it has received
        after = srv.rss_kib()
        assert after - before < 10 * 1024, \
            f"server RSS grew by {(after - before) / 1024:.1f} MiB ({sent} bytes sent in {elapsed:.1f} s)"
        answer = _read_response_or_close(sock, timeout=10)
    finally:
        sock.close()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert requests.get(srv.url + "/health", timeout=5).status_code == 200


def _trickle(srv: ServerProcess, path: str, content_type: str, body: bytes) -> float | None:
    """Send the head at once, then the body at 1 byte/s; seconds until the server cut it (None: not in 15 s)."""
    sock = socket.create_connection(srv.addr, timeout=10)
    try:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: victim\r\nAuthorization: Bearer {srv.token}\r\n"
                      f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode())
        t0 = time.monotonic()
        for i in range(15):
            try:
                sock.sendall(body[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - t0
            sock.settimeout(1.0)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            if not data or data.startswith(b"HTTP/1.1 408"):
                return time.monotonic() - t0
            raise AssertionError(f"unexpected answer {data[:200]!r}")
        return None
    finally:
        sock.close()


def test_body_trickled_at_one_byte_per_second_is_cut_at_the_body_timeout(server_process):
    srv = server_process("body_timeout = 2.0\nbody_min_rate = 64\n")
    multipart = _trickle(srv, "/api/v1/videos/chunk", "multipart/form-data; boundary=trickle",
                         b"--trickle\r\n" + b"x" * 990)
    as_json = _trickle(srv, "/api/v1/videos/init", "application/json", b'{"filename": "' + b"x" * 990 + b'"}')
    for what, cut_after in (("multipart", multipart), ("JSON", as_json)):
        assert cut_after is not None, f"a {what} body at 1 byte/s was still being accepted after 15 s"
        assert cut_after < 8, f"{what} body cut only after {cut_after:.1f} s (body timeout 2 s)"
    assert requests.get(srv.url + "/health", timeout=5).status_code == 200
    assert not list((srv.data_dir / "spool").glob("*")), "the cut body left a spool file"
    srv.stop()
    assert "Traceback" not in srv.log_path.read_text(errors="replace")


def test_unauthenticated_post_gets_401_before_its_body_and_is_closed(server_process):
    srv = server_process()
    sock = socket.create_connection(srv.addr, timeout=10)
    try:
        sock.sendall(b"POST /api/v1/videos/chunk HTTP/1.1\r\nHost: victim\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000000\r\n\r\n")
        sock.sendall(b"--x\r\n")  # a first few body bytes; the other 99,999,995 are never sent
        answer = _read_response_or_close(sock, timeout=3)  # closed at once, not by a keep-alive timer (5 s)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"connection: close" in answer.lower()
    # a bad token too
    sock = socket.create_connection(srv.addr, timeout=10)
    try:
        sock.sendall(b"POST /api/v1/videos/chunk HTTP/1.1\r\nHost: victim\r\nAuthorization: Bearer nope\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000000\r\n\r\n")
        answer = _read_response_or_close(sock, timeout=10)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_requests_client_sees_the_401_of_a_large_unauthenticated_upload(server_process):
    """The early 401 + close must not turn into a connection error for a real client still sending its body."""
    srv = server_process()
    data = os.urandom(8 * 1024 * 1024)
    r = requests.post(srv.url + "/api/v1/videos/chunk", headers={"Authorization": "Bearer nope"}, timeout=30,
                      data={"sessionId": "x", "chunkIndex": "0"}, files={"chunk": ("chunk_0.webm", data)})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
