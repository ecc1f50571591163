"""Socket activation of the embedded server (snaplark_server.activation): the port is owned at once, the web stack
starts on the first connection or on warm(), connections made meanwhile are served, a failed start refuses
instead of hanging, and stop frees the port whether or not the server ever woke up."""

from __future__ import annotations

import concurrent.futures
import socket
import subprocess
import sys

import pytest
import requests

from snaplark_server.activation import ServerStartError, SocketActivatedServer
from snaplark_server.config import ServerConfig


def _config(tmp_path, port: int = 0) -> ServerConfig:
    return ServerConfig(host="127.0.0.1", port=port, data_dir=tmp_path / "srv")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_first_connection_wakes_the_server_and_is_served(tmp_path):
    calls = []
    with SocketActivatedServer(_config(tmp_path), before_start=lambda: calls.append("before")) as srv:
        assert srv.port and not srv.active and calls == []
        assert not _port_free(srv.port)  # owned from the start
        r = requests.get(srv.url + "/health", timeout=30)
        assert r.status_code == 200 and r.json().get("status") == "ok"
        assert srv.wait_active(10) and srv.active and calls == ["before"]
        assert requests.get(srv.url + "/health", timeout=10).status_code == 200
        assert calls == ["before"]  # once
    assert _port_free(srv.port)


def test_connections_that_arrive_while_it_wakes_are_all_served(tmp_path):
    with SocketActivatedServer(_config(tmp_path)) as srv:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            codes = list(pool.map(lambda _: requests.get(srv.url + "/health", timeout=30).status_code, range(6)))
        assert codes == [200] * 6


def test_warm_starts_it_without_a_client(tmp_path):
    with SocketActivatedServer(_config(tmp_path)) as srv:
        assert srv.wait_active(30)
        assert srv.server is not None and srv.server.port == srv.port
        srv.warm()  # no-op once active
        assert requests.get(srv.api_url + "/me", timeout=10).status_code == 401


def test_failed_start_refuses_connections_and_keeps_the_error(tmp_path):
    def broken() -> None:
        raise RuntimeError("token registration failed: disk is read-only")

    srv = SocketActivatedServer(_config(tmp_path), before_start=broken).start()
    try:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(srv.url + "/health", timeout=10)
        assert not srv.wait_active(5)
        assert isinstance(srv.error, RuntimeError) and "read-only" in str(srv.error)
        with pytest.raises(requests.exceptions.ConnectionError):  # refused, not a hang
            requests.get(srv.url + "/health", timeout=10)
    finally:
        srv.stop()


def test_stop_before_it_ever_woke_frees_the_port(tmp_path):
    srv = SocketActivatedServer(_config(tmp_path)).start()
    port = srv.port
    srv.stop()
    assert not srv.active and _port_free(port)


def test_a_taken_port_is_a_clear_error(tmp_path):
    with SocketActivatedServer(_config(tmp_path)) as first:
        with pytest.raises(ServerStartError, match=f"127.0.0.1:{first.port}"):
            SocketActivatedServer(_config(tmp_path, first.port)).start()


def test_importing_it_does_not_load_the_web_stack():
    code = ("import sys, snaplark_server.activation; "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
