"""Fixtures for the desktop e2e tests: Xvfb display, private session D-Bus, tray host, recording
notification service. Uses the lead's shared ``xvfb`` / ``dbus_session`` fixtures (tests/conftest.py) when they
exist, else starts private ones with the same commands.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from recording_notification_service import RecordingNotificationService  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "desktop"

pytestmark = pytest.mark.e2e


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number")


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def desktop_display(request):
    try:
        yield request.getfixturevalue("xvfb")
        return
    except pytest.FixtureLookupError:
        pass
    _require("Xvfb", "xdotool")
    for _attempt in range(3):
        n = _free_display()
        proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: Path(f"/tmp/.X11-unix/X{n}").exists() or proc.poll() is not None, 10, what="Xvfb")
        except TimeoutError:
            proc.kill()
            continue
        if proc.poll() is None:
            break
    else:
        pytest.fail("could not start Xvfb")
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = f":{n}"
    yield f":{n}"
    if old is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = old
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def desktop_bus(request):
    try:
        yield request.getfixturevalue("dbus_session")
        return
    except pytest.FixtureLookupError:
        pass
    _require("dbus-daemon")
    proc = subprocess.Popen(["dbus-daemon", "--session", "--print-address=1", "--nofork"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()  # dbus-daemon prints the address as soon as it listens
    if not address:
        proc.kill()
        pytest.fail("dbus-daemon did not print an address")
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
def notification_service(desktop_bus):
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
    proc = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120",
                             "--height", "32", "--SetDockType", "false", "--transparent", "false",
                             "--tint", "0x444444", "--expand", "false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: tray_selection_owned() or proc.poll() is not None, 10, what="trayer")
    if proc.poll() is not None:
        pytest.fail("trayer exited")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def tray_selection_owned() -> bool:
    """True once some client owns the _NET_SYSTEM_TRAY_S0 selection (checked with python-xlib)."""
    from Xlib import display as xdisplay

    d = xdisplay.Display()
    try:
        atom = d.intern_atom("_NET_SYSTEM_TRAY_S0")
        return d.get_selection_owner(atom) != 0
    finally:
        d.close()
