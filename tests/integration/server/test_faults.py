"""Fault injection hook: off by default, never from a config file, and each fault kind over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from snaplark_server.config import ConfigError, load_config_file

from .conftest import finalize, init_session, send_chunk, webm_bytes


@pytest.fixture
def fsrv(make_server):
    return make_server("local", fault_injection=True)


def add_fault(s, **rule):
    r = requests.post(s.url + "/_faults", json=rule, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_fail_next_n_with_status_and_retry_after(fsrv):
    sid = init_session(fsrv)
    add_fault(fsrv, route="/api/v1/videos/chunk", count=2, status=503, retry_after=7)
    for _ in range(2):
        r = send_chunk(fsrv, sid, 0, b"a" * 5000)
        assert r.status_code == 503 and r.headers["retry-after"] == "7"
        assert r.json()["error"] == "injected_fault"
    st = requests.get(f"{fsrv.api_url}/videos/{sid}/status", headers=fsrv.headers(), timeout=10).json()
    assert st["parts"] == []
    assert send_chunk(fsrv, sid, 0, b"a" * 5000).status_code == 200
    assert requests.get(fsrv.url + "/_faults", timeout=10).json()["rules"] == []


def test_delay_only(fsrv):
    add_fault(fsrv, route="/health", count=1, status=None, delay=0.3)
    t0 = time.monotonic()
    assert requests.get(fsrv.url + "/health", timeout=10).json() == {"status": "ok"}
    assert time.monotonic() - t0 >= 0.3


def test_drop_connection_mid_body(fsrv):
    sid = init_session(fsrv)
    add_fault(fsrv, route="/api/v1/videos/chunk", count=1, drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        send_chunk(fsrv, sid, 0, webm_bytes(3_000_000, b"b"))
    st = requests.get(f"{fsrv.api_url}/videos/{sid}/status", headers=fsrv.headers(), timeout=10).json()
    assert st["parts"] == []
    assert send_chunk(fsrv, sid, 0, webm_bytes(3_000_000, b"b")).status_code == 200
    assert finalize(fsrv, sid, 1).status_code == 200


def test_pattern_routes_method_and_clear(fsrv):
    sid = init_session(fsrv)
    add_fault(fsrv, route="/api/v1/videos/*/status", count=5, status=429, method="GET")
    r = requests.get(f"{fsrv.api_url}/videos/{sid}/status", headers=fsrv.headers(), timeout=10)
    assert r.status_code == 429
    assert requests.delete(fsrv.url + "/_faults", timeout=10).json() == {"cleared": True}
    r = requests.get(f"{fsrv.api_url}/videos/{sid}/status", headers=fsrv.headers(), timeout=10)
    assert r.status_code == 200
    bad = requests.post(fsrv.url + "/_faults", json={"route": "/x", "count": 0}, timeout=10)
    assert bad.status_code == 422
    bad = requests.post(fsrv.url + "/_faults", json={"nope": 1}, timeout=10)
    assert bad.status_code == 422


def test_python_api(make_server):
    s = make_server("local", fault_injection=True)
    s.thread.faults.add("/api/v1/me", count=1, status=500)
    assert requests.get(s.api_url + "/me", headers=s.headers(), timeout=10).status_code == 500
    assert requests.get(s.api_url + "/me", headers=s.headers(), timeout=10).status_code == 200


def test_config_file_cannot_enable_faults(tmp_path):
    cfg = tmp_path / "server.toml"
    cfg.write_text('port = 0\nfault_injection = true\n')
    with pytest.raises(ConfigError, match="fault_injection"):
        load_config_file(cfg, data_dir=tmp_path)
    cfg.write_text('[server]\nport = 0\nmax_part_size = 1048576\n')
    config = load_config_file(cfg, data_dir=tmp_path)
    assert config.fault_injection is False and config.max_part_size == 1048576 and config.port == 0
