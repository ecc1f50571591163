"""Fixtures for the desktop e2e tests: the lead's Xvfb display and session bus (tests/conftest.py), an
activation-free private bus for notification tests, the ``trayer`` tray host, the recording notification service.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from desktop_helpers import require_tools as _require  # noqa: E402
from recording_notification_service import RecordingNotificationService  # noqa: E402

from tests.procutil import start_tray_host, stop_process  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "desktop"


@pytest.fixture(scope="session")
def desktop_display(xvfb):
    """The lead's shared Xvfb display (tests/conftest.py)."""
    return xvfb


@pytest.fixture(scope="session")
def desktop_bus(dbus_session):
    """The shared private session bus; tray tests need one so GTK does not autolaunch a bus of its own."""
    return dbus_session


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture(scope="module")
def notification_bus(tmp_path_factory):
    """A private session bus for notification tests with NO service activation (no <servicedir>): nothing
    (dunst via its .service file) can take org.freedesktop.Notifications except the test's own service, and
    'no service on the bus' is real. Sets DBUS_SESSION_BUS_ADDRESS for the module."""
    _require("dbus-daemon")
    tmp = tmp_path_factory.mktemp("notify-bus")
    config = tmp / "bus.conf"
    config.write_text(BUS_CONFIG.format(dir=tmp))
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--print-address=1", "--nofork"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()  # printed once it listens
    if not address:
        proc.kill()
        proc.wait(timeout=5)
        pytest.fail("dbus-daemon printed no address")
    old = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    yield address
    if old is None:
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    else:
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = old
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture
def notification_service(notification_bus):
    service = RecordingNotificationService().start()
    yield service
    service.stop()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def tray_host(desktop_display):
    """``trayer`` as the XEmbed system tray host (owns _NET_SYSTEM_TRAY_S0)."""
    _require("trayer", "xdotool")
    proc = start_tray_host("--tint", "0x444444")
    yield proc
    stop_process(proc)


@pytest.fixture(autouse=True)
def _pure_x11_session(monkeypatch):
    """The tests run on Xvfb, a plain X11 server, even when started from a Wayland desktop."""
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
