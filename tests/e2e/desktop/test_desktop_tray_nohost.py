"""No tray host on the display: the icon reports it once and the app stays usable via hotkeys."""

from __future__ import annotations

import pytest

from desktop_helpers import tray_selection_owned
from tray.ui.tray_icon import TrayIcon

pytestmark = pytest.mark.e2e


def test_no_tray_host_is_reported_once(desktop_display, desktop_bus):
    if tray_selection_owned():
        pytest.skip("a tray host is running on this display")
    told = []
    icon = TrayIcon(object(), lambda fn: fn(), capture_hotkey="Ctrl+Alt+S", on_unavailable=told.append)
    assert icon.start() is False
    assert icon.available is False and "no system tray host" in icon.unavailable_reason
    assert len(told) == 1 and "use the global hotkeys (Ctrl+Alt+S)" in told[0]
    icon.stop()  # harmless when never started
