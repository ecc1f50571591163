"""What the tray app's warnings look like to a notification server on a real private session bus (issue 12):
markup in bodies is escaped only for servers that parse it (#8), hotkey warnings are normal-urgency notifications
that go away by themselves (#16). The warning comes from a real clash: another X client holds Ctrl+Alt+A on Xvfb.
"""

from __future__ import annotations

import types

import pytest

from recording_notification_service import RecordingNotificationService
from tray import config
from tray.ui.desktop import DesktopApp
from tray_platform.linux.notify import DBusNotifier

pytestmark = pytest.mark.e2e

PLAIN = ("actions", "body", "persistence")
MARKUP = ("actions", "body", "body-markup", "persistence")


@pytest.fixture
def grabbed_ctrl_alt_a(desktop_display):
    """Another application (its own X connection) holds Ctrl+Alt+A, as a desktop shortcut would."""
    from Xlib import X
    from Xlib import display as xdisplay

    from tray_platform.linux.hotkeys import _keysym

    other = xdisplay.Display()
    keycode = other.keysym_to_keycode(_keysym("a"))
    other.screen().root.grab_key(keycode, X.ControlMask | X.Mod1Mask, False, X.GrabModeAsync, X.GrabModeAsync)
    other.sync()
    yield
    other.close()


def app_with_notifier(tmp_path) -> DesktopApp:
    """The tray app as ``_run`` wires it for hotkeys, with only Capture screen bound (the clashing one)."""
    settings = config.Settings(hotkeys=config.HotkeySettings(capture_region="", capture_screen="<ctrl>+<alt>+a",
                                                             record_region="", stop_recording="",
                                                             pause_recording=""))
    app = DesktopApp(settings, config_path=tmp_path / "config.toml")
    app.dispatcher = types.SimpleNamespace(post=lambda fn: fn(), stopped=False)
    app.notifier = DBusNotifier(call_timeout=3.0).open()
    return app


@pytest.mark.parametrize("capabilities,expect", [
    (MARKUP, "&lt;ctrl&gt;+&lt;alt&gt;+a"),
    (PLAIN, "'<ctrl>+<alt>+a'"),
], ids=["server-parses-markup", "plain-text-server"])
def test_hotkey_warning_body_is_escaped_only_for_markup_servers(notification_bus, grabbed_ctrl_alt_a, tmp_path,
                                                               capabilities, expect):
    service = RecordingNotificationService(capabilities=capabilities).start()
    app = app_with_notifier(tmp_path)
    try:
        app._start_hotkeys()
        call = service.wait_for(lambda calls: calls and calls[-1])
    finally:
        app.hotkeys.stop()
        app.notifier.close_connection()
        service.stop()
    assert "hotkeys.capture_screen" in call.body and "already taken" in call.body, call.body
    assert expect in call.body, call.body
    if "body-markup" in capabilities:
        assert "<" not in call.body and ">" not in call.body, call.body


def test_hotkey_warning_is_normal_urgency_and_expires(notification_service, grabbed_ctrl_alt_a, tmp_path):
    app = app_with_notifier(tmp_path)
    try:
        app._start_hotkeys()
        call = notification_service.wait_for(lambda calls: calls and calls[-1])
    finally:
        app.hotkeys.stop()
        app.notifier.close_connection()
    assert call.summary == "Hotkey not registered"
    assert call.hint("urgency") == 1, f"urgency hint {call.hint('urgency')} (2 = critical: stays until dismissed)"
    assert 1_000 <= call.expire_timeout <= 30_000, f"expire_timeout {call.expire_timeout} ms (0 = never)"
