"""`snaplark-server` CLI (user add/list, token revoke, serve) and the token helpers the desktop app uses."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from snaplark_server.config import ServerConfig
from snaplark_server.db import DB_FILENAME, Database
from snaplark_server.runner import ServerStartError, ServerThread
from snaplark_server.users import (UserError, authenticate, create_user, ensure_local_user, list_users,
                                   register_token, revoke_token, set_user_token)

from .conftest import start_cli_server, stop_process


def run_cli(data_dir, *args, timeout=60, input_text: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snaplark_server", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=timeout, input=input_text)


def test_cli_user_lifecycle_against_running_server(tmp_path):
    proc, url = start_cli_server(tmp_path)
    try:
        added = run_cli(tmp_path, "user", "add", "carol")
        assert added.returncode == 0, added.stderr
        token = added.stdout.strip().splitlines()[-1]
        assert token.startswith("slk_") and " " not in token
        me = requests.get(url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.status_code == 200 and me.json() == {"user": "carol"}
        assert requests.post(url + "/_faults", json={"route": "*"}, timeout=10).status_code == 404  # off
        dup = run_cli(tmp_path, "user", "add", "carol")
        assert dup.returncode == 1 and "exists" in dup.stderr
        listed = run_cli(tmp_path, "user", "list")
        assert listed.returncode == 0 and "carol\tactive" in listed.stdout
        revoked = run_cli(tmp_path, "token", "revoke", "carol")
        assert revoked.returncode == 0
        me = requests.get(url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.status_code == 401 and me.json()["error"] == "unauthorized"
        assert "carol\trevoked" in run_cli(tmp_path, "user", "list").stdout
        assert run_cli(tmp_path, "token", "revoke", "nobody").returncode == 1
        # the token itself is stored nowhere: only its hash
        for f in tmp_path.rglob("*"):
            if f.is_file():
                assert token.encode() not in f.read_bytes()
    finally:
        stop_process(proc)


def test_set_user_token_and_embedded_helpers(tmp_path):
    db = Database.in_data_dir(tmp_path)
    try:
        t1 = create_user(db, "dave")
        assert authenticate(db, t1).name == "dave"
        with pytest.raises(UserError):
            create_user(db, "dave")
        with pytest.raises(UserError):
            create_user(db, "../evil\n")
        mine = "app-kept-token-0123456789abcdef"
        set_user_token(db, "dave", mine)
        assert authenticate(db, t1) is None and authenticate(db, mine).name == "dave"
        with pytest.raises(UserError):
            set_user_token(db, "erin", mine)  # a token belongs to one user
        with pytest.raises(UserError):
            set_user_token(db, "erin", "short")
        assert revoke_token(db, "dave") and authenticate(db, mine) is None
        assert ("dave", False) in list_users(db)
    finally:
        db.close()
    a = ensure_local_user(tmp_path)
    b = ensure_local_user(tmp_path)
    assert a != b
    register_token(tmp_path, "local", "keyring-token-abcdefghijklmnop")
    with ServerThread(ServerConfig(data_dir=tmp_path, port=0)) as srv:
        for token, ok in ((a, False), (b, False), ("keyring-token-abcdefghijklmnop", True)):
            r = requests.get(srv.api_url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert (r.status_code == 200) is ok
    raw = (tmp_path / DB_FILENAME).read_bytes()
    assert b"keyring-token-abcdefghijklmnop" not in raw


def test_stop_is_bounded_with_a_stalled_upload(tmp_path):
    import socket

    srv = ServerThread(ServerConfig(data_dir=tmp_path, port=0)).start()
    stalled = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    stalled.sendall(b"POST /api/v1/videos/chunk HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc")
    thread = srv._thread
    srv.stop(timeout=6)
    assert not thread.is_alive()
    stalled.close()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(srv.url + "/health", timeout=2)


def test_server_thread_lifecycle(tmp_path):
    srv = ServerThread(ServerConfig(data_dir=tmp_path, port=0)).start()
    port = srv.port
    assert requests.get(srv.url + "/health", timeout=10).status_code == 200
    assert srv.api_url == srv.url + "/api/v1"
    with pytest.raises(ServerStartError):  # the port is taken
        ServerThread(ServerConfig(data_dir=tmp_path / "other", port=port)).start()
    srv.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
    srv.stop()  # idempotent


def test_cli_serve_with_s3_storage(tmp_path, moto_endpoint):
    run = run_cli(tmp_path, "user", "add", "sam")
    token = run.stdout.strip().splitlines()[-1]
    log_file = open(tmp_path / "server.log", "w")
    proc, url = start_cli_server(tmp_path, "--storage", "s3", "--s3-bucket", "cli-bucket", "--s3-endpoint-url",
                                 moto_endpoint, "--enable-fault-injection-for-tests", global_args=("-v",),
                                 stderr=log_file)
    try:
        h = {"Authorization": f"Bearer {token}"}
        assert requests.post(url + "/_faults", json={"route": "/api/v1/me", "status": 502}, timeout=10).ok
        assert requests.get(url + "/api/v1/me", headers=h, timeout=10).status_code == 502
        sid = requests.post(url + "/api/v1/videos/init", headers=h, timeout=10, json={
            "filename": "a.webm", "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 1,
            "resolution": "2x2"}).json()["sessionId"]
        r = requests.post(url + "/api/v1/videos/chunk", headers=h, timeout=10,
                          data={"sessionId": sid, "chunkIndex": "0"}, files={"chunk": ("c", b"\x1a\x45\xdf\xa3s3-bytes")})
        assert r.status_code == 200
        r = requests.post(url + "/api/v1/videos/finalize", headers=h, timeout=10,
                          json={"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0]})
        assert r.status_code == 200
        assert requests.get(r.json()["url"], timeout=10).content == b"\x1a\x45\xdf\xa3s3-bytes"
        assert requests.get(url + "/api/v1/me", headers={"Authorization": "Bearer wrong-token-value"},
                            timeout=10).status_code == 401
    finally:
        stop_process(proc)
        log_file.close()
    log = (tmp_path / "server.log").read_text()
    assert "FAULT INJECTION" in log  # the log is real and verbose ...
    assert token not in log and "wrong-token-value" not in log  # ... and never contains a token
    assert "authorization" not in log.lower()
