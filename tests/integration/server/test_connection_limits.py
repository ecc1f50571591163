"""The connection guard's rules one by one, on an in-process server with small limits (connection_guard.py):
head timeout, head size, the connection cap shedding head-less connections first, keep-alive still working,
and the accept() error log gate."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time

import requests

from .conftest import SEED_INIT


def _connect(srv) -> socket.socket:
    return socket.create_connection((srv.thread.host, srv.thread.port), timeout=10)


def _read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything until the server closes; (data, seconds it took). Fails after ``timeout``."""
    t0 = time.monotonic()
    sock.settimeout(0.2)
    out = b""
    while time.monotonic() - t0 < timeout:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not data:
            break
        out += data
    else:
        raise AssertionError(f"still open after {timeout} s; got {out[:200]!r}")
    return out, time.monotonic() - t0


def test_unfinished_head_gets_408_at_the_head_timeout_however_it_trickles(make_server):
    srv = make_server("local", header_timeout=1.0)
    sock = _connect(srv)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.9:  # a header line every 0.1 s does not extend the deadline
            sock.sendall(b"X-A: b\r\n")
            time.sleep(0.1)
        answer, _ = _read_until_closed(sock, timeout=3)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"request_timeout"' in answer


def test_silent_connection_is_closed_at_the_head_timeout(make_server):
    srv = make_server("local", header_timeout=1.0)
    sock = _connect(srv)
    try:
        answer, took = _read_until_closed(sock, timeout=4)
    finally:
        sock.close()
    assert answer == b"" and 0.9 < took < 3


def test_keep_alive_connection_serves_requests_and_its_next_head_is_timed_again(make_server):
    srv = make_server("local", header_timeout=1.0)
    sock = _connect(srv)
    try:
        for _ in range(3):  # several requests on one connection, each head complete at once
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.settimeout(5)
            data = b""
            while b'{"status":"ok"}' not in data:
                more = sock.recv(65536)
                assert more, f"closed after {data!r}"
                data += more
            assert data.startswith(b"HTTP/1.1 200") and b"connection: close" not in data.lower(), data
            time.sleep(0.3)
        sock.sendall(b"GET /health HTTP/1.1\r\n")  # then a head that never ends
        answer, took = _read_until_closed(sock, timeout=4)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408") and took < 3


def test_head_over_max_header_size_gets_431_and_a_large_legal_one_passes(make_server):
    srv = make_server("local", max_header_size=16 * 1024)
    ok = requests.get(srv.url + "/health", headers={"Cookie": "c=" + "x" * 12_000}, timeout=10)
    assert ok.status_code == 200
    sock = _connect(srv)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nCookie: " + b"x" * 17_000 + b"\r\n")
        answer, _ = _read_until_closed(sock, timeout=5)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert srv.thread.connection_guard.counts["head_too_large"] == 1


def test_connection_cap_sheds_the_oldest_headless_connections_and_serves_real_requests(make_server):
    srv = make_server("local", max_connections=8)
    slow = [_connect(srv) for _ in range(20)]
    try:
        for s in slow:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.3)
        r = requests.post(srv.api_url + "/videos/init", json=SEED_INIT, headers=srv.headers(), timeout=5)
        assert r.status_code == 200, r.text
        for _ in range(5):
            assert requests.get(srv.url + "/health", timeout=5).status_code == 200
        closed = 0
        for s in slow[:12]:  # the oldest ones went first
            s.settimeout(2)
            try:
                closed += s.recv(10) == b""
            except (ConnectionResetError, socket.timeout):
                closed += 1
        assert closed == 12
        assert srv.thread.connection_guard.counts["shed"] >= 12
    finally:
        for s in slow:
            s.close()


def test_a_slow_upload_in_progress_is_never_shed(make_server):
    """Over the cap, connections whose request is being served stay; a new head-less one is refused instead."""
    srv = make_server("local", max_connections=2)
    sid = requests.post(srv.api_url + "/videos/init", json=SEED_INIT, headers=srv.headers(), timeout=5).json()["sessionId"]
    body_head = (f"--b\r\nContent-Disposition: form-data; name=\"sessionId\"\r\n\r\n{sid}\r\n"
                 f"--b\r\nContent-Disposition: form-data; name=\"chunkIndex\"\r\n\r\n0\r\n"
                 f"--b\r\nContent-Disposition: form-data; name=\"chunk\"; filename=\"chunk_0.webm\"\r\n\r\n").encode()
    data = b"v" * 4096
    body = body_head + data + b"\r\n--b--\r\n"
    uploads = [_connect(srv) for _ in range(2)]
    try:
        for s in uploads:  # head complete, body half sent: being served
            s.sendall((f"POST /api/v1/videos/chunk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {srv.token}\r\n"
                       f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {len(body)}\r\n\r\n")
                      .encode() + body[:100])
        time.sleep(0.3)
        extra = _connect(srv)
        answer, _ = _read_until_closed(extra, timeout=3)  # refused: nothing older to shed
        extra.close()
        assert answer == b""
        for s in uploads:
            s.sendall(body[100:])
            s.settimeout(10)
            reply = s.recv(65536)
            assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    finally:
        for s in uploads:
            s.close()


def test_accept_errors_are_one_log_line_per_interval(make_server, caplog):
    srv = make_server("local", log_flood_interval=60.0)
    guard = srv.thread.connection_guard
    loop = guard.loop
    sock = socket.socket()
    done = threading.Event()

    def storm() -> None:
        for _ in range(5000):
            loop.call_exception_handler({"message": "socket.accept() out of system resource",
                                         "exception": OSError(errno.EMFILE, "Too many open files"), "socket": sock})
        done.set()

    with caplog.at_level(logging.INFO):
        loop.call_soon_threadsafe(storm)
        assert done.wait(10)
        time.sleep(0.1)
    sock.close()
    lines = [r for r in caplog.records if "accept()" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "Too many open files" in lines[0].getMessage() and lines[0].exc_info is None
    assert guard.counts["accept_error"] == 5000
    assert requests.get(srv.url + "/health", timeout=5).status_code == 200
