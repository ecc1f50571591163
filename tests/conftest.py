"""Shared fixtures: a virtual X display, a private D-Bus session bus, and the reference server.

Every external process is started here on a free display/port, its readiness is awaited with a bound, and it is
stopped at teardown. Tests that need a tool that is absent are skipped with the reason; CI installs every tool, so
nothing is skipped there (``SNAPLARK_REQUIRE_ALL=1`` turns such skips into failures).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.procutil import die_with_parent, need_tool, start_xvfb
from tests.procutil import stop_process as _stop

# Property tests are deterministic (same examples every run, no example database): a CI failure reproduces locally.
from hypothesis import HealthCheck, settings as _hyp_settings  # noqa: E402

_hyp_settings.register_profile("snaplark", derandomize=True, database=None, deadline=None, print_blob=True,
                               suppress_health_check=[HealthCheck.too_slow])
_hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "snaplark"))


@pytest.fixture(scope="session")
def xvfb():
    """A 1280x720 Xvfb display; sets DISPLAY for this process (and children) while the session lasts."""
    need_tool("Xvfb")
    proc, display = start_xvfb(1280, 720)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DISPLAY", display)
        yield display
    _stop(proc)


@pytest.fixture(scope="session")
def xvfb_1080p():
    """A separate 1920x1080 display; returns its DISPLAY string without changing os.environ."""
    need_tool("Xvfb")
    proc, display = start_xvfb(1920, 1080)
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
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address
    _stop(proc)


@pytest.fixture(scope="session")
def postgres_cluster():
    """A real PostgreSQL (tests/postgres.py) for the whole session; tests take a database each (postgres_url)."""
    from tests.postgres import PostgresCluster, need_postgres

    need_postgres()
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster):
    """The URL of a new, empty PostgreSQL database of this test's own."""
    url = postgres_cluster.create_database()
    yield url
    postgres_cluster.drop_database(url)


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
    # capture.audio = "auto" records the microphone when an audio server has one: no test picks up a sound server
    # by accident (the audio tests name their private PulseAudio explicitly)
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/snaplark-tests-have-no-default-audio")


@pytest.fixture(autouse=True)
def _umask_restored():
    """``tray.cli.main`` sets the process umask to 077 (the user's files are private), and tests call it in-process:
    without this, every later test created files 0600 -- the Wayland session's sway, which runs as another user,
    could not read its config (8 errors in CI after tests/e2e/ui/test_history_save_gif.py ran ``main``)."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.fixture(autouse=True)
def _glib_session_bus_may_close():
    """keyring's libsecret backend (Debian's chromium brings gir1.2-secret-1, so keyring chains it in) opens GLib's
    process-wide session-bus connection on whatever private bus a test's fixture set up. GLib's default for that
    connection is exit-on-close: when the fixture stops its bus, the close waits in the main context and the next
    test that runs a GLib main loop (the GTK tray) gets SIGTERM -- the whole pytest run died that way in CI. After
    each test, a session connection GLib made is told not to exit the process when its bus goes away."""
    yield
    import sys

    if "gi.repository.Secret" not in sys.modules:  # (asking GLib otherwise could make a connection, even autolaunch)
        return
    try:
        from gi.repository import Gio

        Gio.bus_get_sync(Gio.BusType.SESSION, None).set_exit_on_close(False)
    except Exception:  # noqa: BLE001 - no session bus now: GLib made no connection that could close later
        pass


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
