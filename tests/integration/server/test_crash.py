"""SIGKILL of the server process mid-upload, then restart: no acknowledged part is lost."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from urllib.parse import urlparse

import requests

from snaplark_server.db import Database
from snaplark_server.users import create_user

from .conftest import make_parts, sha, start_cli_server, stop_process

PART = 200_000


class Remote:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.api_url = url + "/api/v1"
        self.token = token

    def headers(self, token=None):
        return {"Authorization": f"Bearer {token or self.token}"}


def _prepare(tmp_path):
    data = tmp_path / "data"
    cfg = tmp_path / "server.toml"
    cfg.write_text("[server]\nmin_part_size = 1024\n")
    db = Database.in_data_dir(data)
    token = create_user(db, "alice")
    db.close()
    return data, ("--config", str(cfg)), token


def _half_sent_chunk(url: str, token: str, session_id: str, index: int, data: bytes) -> socket.socket:
    """Open a raw connection and send the headers and half of a multipart chunk body (then stall)."""
    boundary = "----snaplarkcrash"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"sessionId\"\r\n\r\n{session_id}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"chunkIndex\"\r\n\r\n{index}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"chunk\"; filename=\"chunk_{index}.webm\"\r\n"
            f"Content-Type: video/webm\r\n\r\n").encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    u = urlparse(url)
    sock = socket.create_connection((u.hostname, u.port), timeout=10)
    sock.sendall((f"POST /api/v1/videos/chunk HTTP/1.1\r\nHost: {u.netloc}\r\nAuthorization: Bearer {token}\r\n"
                  f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n")
                 .encode() + body[: len(body) // 2])
    return sock


def test_sigkill_mid_part_then_restart(tmp_path):
    data, gargs, token = _prepare(tmp_path)
    parts = make_parts([PART] * 6, seed=11)
    proc, url = start_cli_server(data, global_args=gargs)
    try:
        s = Remote(url, token)
        sid = requests.post(s.api_url + "/videos/init", headers=s.headers(), timeout=10, json={
            "filename": "r.webm", "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 1,
            "resolution": "640x480"}).json()["sessionId"]
        for i in (1, 2, 3):
            r = requests.post(s.api_url + "/videos/chunk", headers=s.headers(), timeout=10,
                              data={"sessionId": sid, "chunkIndex": str(i), "sha256": sha(parts[i])},
                              files={"chunk": (f"chunk_{i}.webm", parts[i])})
            assert r.status_code == 200
        sock = _half_sent_chunk(url, token, sid, 4, parts[4])
        time.sleep(0.3)  # the server is now streaming part 4 into its spool
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        sock.close()
    finally:
        stop_process(proc)

    proc, url = start_cli_server(data, global_args=gargs)
    try:
        s = Remote(url, token)
        assert list((data / "spool").iterdir()) == []  # the half-received body was dropped at start-up
        st = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10).json()
        assert st["parts"] == [{"chunkIndex": i, "size": PART, "sha256": sha(parts[i])} for i in (1, 2, 3)]
        for i in (0, 4, 5):
            r = requests.post(s.api_url + "/videos/chunk", headers=s.headers(), timeout=10,
                              data={"sessionId": sid, "chunkIndex": str(i)},
                              files={"chunk": (f"chunk_{i}.webm", parts[i])})
            assert r.status_code == 200
        r = requests.post(s.api_url + "/videos/finalize", headers=s.headers(), timeout=30, json={
            "sessionId": sid, "totalChunks": 6, "uploadedChunks": list(range(6)), "duration": 1.0, "metadata": {},
            "sha256": sha(b"".join(parts))})
        assert r.status_code == 200, r.text
        assert sha(requests.get(r.json()["url"], timeout=30).content) == sha(b"".join(parts))
    finally:
        stop_process(proc)


def test_sigkill_during_streaming_uploads(tmp_path):
    """A sender thread uploads parts back to back; the server is killed at an arbitrary moment. Every part whose
    200 answer arrived is present (with the same sha256) after the restart."""
    data, gargs, token = _prepare(tmp_path)
    parts = make_parts([PART] * 40, seed=12)
    proc, url = start_cli_server(data, global_args=gargs)
    acked: list[int] = []
    s = Remote(url, token)
    sid = requests.post(s.api_url + "/videos/init", headers=s.headers(), timeout=10, json={
        "filename": "r.webm", "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 1,
        "resolution": "640x480"}).json()["sessionId"]

    def sender():
        http = requests.Session()
        for i, blob in enumerate(parts):
            try:
                r = http.post(s.api_url + "/videos/chunk", headers=s.headers(), timeout=10,
                              data={"sessionId": sid, "chunkIndex": str(i)}, files={"chunk": ("c", blob)})
            except requests.exceptions.RequestException:
                return
            if r.status_code == 200:
                acked.append(i)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    t.join(30)
    assert not t.is_alive()
    stop_process(proc)
    assert len(acked) >= 5
    proc, url = start_cli_server(data, global_args=gargs)
    try:
        st = requests.get(f"{url}/api/v1/videos/{sid}/status", headers=s.headers(), timeout=10).json()
        held = {p["chunkIndex"]: p["sha256"] for p in st["parts"]}
        for i in acked:
            assert held.get(i) == sha(parts[i]), f"acknowledged part {i} lost"
        for i, digest in held.items():  # whatever else is there is intact, never torn
            assert digest == sha(parts[i])
            assert (data / "sessions" / sid / f"{i:05d}.part").stat().st_size == PART
    finally:
        stop_process(proc)
