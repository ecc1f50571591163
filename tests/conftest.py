"""Shared fixtures: a virtual X display, a private D-Bus session bus, and the reference server.

Every external process is started here on a free display/port, its readiness is awaited with a bound, and it is
stopped at teardown. Tests that need a tool that is absent are skipped with the reason; CI installs every tool, so
nothing is skipped there (``SNAPLARK_REQUIRE_ALL=1`` turns such skips into failures).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.procutil import die_with_parent

REQUIRE_ALL = os.environ.get("SNAPLARK_REQUIRE_ALL") == "1"

# Property tests are deterministic (same examples every run, no example database): a CI failure reproduces locally.
from hypothesis import HealthCheck, settings as _hyp_settings  # noqa: E402

_hyp_settings.register_profile("snaplark", derandomize=True, database=None, deadline=None, print_blob=True,
                               suppress_health_check=[HealthCheck.too_slow])
_hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "snaplark"))


def need_tool(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        msg = f"needs {', '.join(missing)} (apt-get install them; .ci/run does)"
        if REQUIRE_ALL:
            pytest.fail(msg)
        pytest.skip(msg)


def _stop(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def _start_xvfb(width: int, height: int):
    need_tool("Xvfb")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
         "-ac", "-noreset", "+extension", "RANDR"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    os.close(write_fd)
    deadline = time.monotonic() + 20
    data = b""
    with os.fdopen(read_fd, "rb") as f:
        os.set_blocking(f.fileno(), False)
        while time.monotonic() < deadline and not data.endswith(b"\n"):
            try:
                chunk = f.read()
            except BlockingIOError:
                chunk = None
            if chunk:
                data += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.02)
    if not data.strip():
        _stop(proc)
        raise RuntimeError("Xvfb did not report a display number within 20 s")
    return proc, f":{data.decode().strip()}"


@pytest.fixture(scope="session")
def xvfb():
    """A 1280x720 Xvfb display; sets DISPLAY for this process (and children) while the session lasts."""
    proc, display = _start_xvfb(1280, 720)
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    yield display
    _stop(proc)
    if old is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = old


@pytest.fixture(scope="session")
def xvfb_1080p():
    """A separate 1920x1080 display; returns its DISPLAY string without changing os.environ."""
    proc, display = _start_xvfb(1920, 1080)
    yield display
    _stop(proc)


@pytest.fixture(scope="session")
def dbus_session():
    """A private session bus; sets DBUS_SESSION_BUS_ADDRESS while the session lasts."""
    need_tool("dbus-daemon")
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=die_with_parent)
    address = proc.stdout.readline().strip()
    if not address:
        _stop(proc)
        raise RuntimeError("dbus-daemon printed no address")
    old = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    yield address
    _stop(proc)
    if old is None:
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    else:
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = old


@dataclass
class RunningServer:
    url: str
    api_url: str
    token: str
    data_dir: Path
    thread: object


@pytest.fixture
def server(tmp_path):
    """The reference server in-process on an ephemeral port with a fresh data dir and one user ``alice``."""
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread
    from snaplark_server.users import ensure_local_user

    data_dir = tmp_path / "server-data"
    config = ServerConfig(port=0, data_dir=data_dir, fault_injection=True)
    thread = ServerThread(config).start()
    try:
        token = ensure_local_user(data_dir, "alice")
        yield RunningServer(url=thread.url, api_url=thread.api_url, token=token, data_dir=data_dir, thread=thread)
    finally:
        thread.stop()


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path, monkeypatch):
    """Keep every test away from the real user's config, data and log dirs."""
    monkeypatch.setenv("SNAPLARK_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("SNAPLARK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SNAPLARK_LOG_DIR", str(tmp_path / "log"))


@pytest.fixture
def keyring_env(tmp_path, monkeypatch):
    """A running, unlocked gnome-keyring on its own private bus with a throwaway HOME; this process points at it
    for the test (and subprocesses started with the yielded env dict)."""
    from tests.integration.keyring_session import KEYRING_ENV_VARS, need_keyring_tools, private_keyring

    need_keyring_tools()
    with private_keyring(tmp_path / "keyring") as env:
        for name in KEYRING_ENV_VARS:
            monkeypatch.setenv(name, env[name])
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        yield env
