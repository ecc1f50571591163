"""The Settings window (issue 20) on the shared Xvfb with a real settings file: fields typed into and hotkeys recorded
with ``xdotool`` (real X key events through Tk), Save writes the file on disk, an invalid value shows the schema's
own error (the one ``snaplark config set`` prints) and nothing is written, two hotkeys with one combination and
Shift+digit are refused at once, Cancel discards, "Start at login" writes the XDG autostart entry (the real Linux
adapter, in a private XDG_CONFIG_HOME).
"""

from __future__ import annotations

import os
import tomllib

import pytest

from tests.e2e.ui.conftest import pump, screenshot, xdotool

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    from tray import config

    path = tmp_path / "cfg" / "config.toml"
    config.save_config(config.Settings(), path)
    monkeypatch.setenv("SNAPLARK_AUTOSTART", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-system"))
    return path


@pytest.fixture
def open_settings(tk_root, settings_file):
    from tray_platform.fallback.notify import LogNotifier

    from tray import config
    from tray.ui.context import TrayContext
    from tray.ui.dispatcher import UiDispatcher
    from tray.ui.settings_window import SettingsWindow

    opened = []

    def open_window(**kwargs):
        ctx = TrayContext(config.load_config(settings_file), config_path=settings_file)
        ctx.root, ctx.dispatcher, ctx.notifier = tk_root, UiDispatcher(tk_root), LogNotifier()
        ctx.dispatcher.start()
        window = SettingsWindow(ctx, **kwargs)
        opened.append(window)
        assert pump(tk_root, lambda: window.top.winfo_viewable(), timeout=5)
        # no window manager: give the window the X input focus (an earlier test may have left it on a closed one)
        xdotool(tk_root, "windowfocus", str(int(window.top.wm_frame(), 16)))
        return window

    yield open_window
    for window in opened:
        window.close()
    pump(tk_root, timeout=0.1)
    pointer_root_focus()


def pointer_root_focus() -> None:
    """Give the X input focus back to PointerRoot, what a server without a window manager starts with: the focus we
    set on a now-closed window reverts to None, and later tests' windows (other processes) would get no keys."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(os.environ["DISPLAY"])
    try:
        d.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
        d.sync()
    finally:
        d.close()


def show_tab(window, name):
    window.notebook.select(window.tabs[name])
    pump(window.top, lambda: window.tabs[name].winfo_viewable(), timeout=3)
    pump(window.top, timeout=0.1)


def click(root, widget):
    x = widget.winfo_rootx() + widget.winfo_width() // 2
    y = widget.winfo_rooty() + widget.winfo_height() // 2
    xdotool(root, "mousemove", str(x), str(y), "click", "1")  # (--sync would wait forever if already there)


def type_into(root, widget, text):
    click(root, widget)
    xdotool(root, "key", "End", *["BackSpace"] * 12)
    xdotool(root, "key", "--delay", "20", *text)  # one key per character (letters and digits here)


def record(root, window, key, *keys):
    recorder = window.recorders[key]
    click(root, recorder.entry)
    assert pump(root, lambda: recorder.recording, timeout=3), "the recorder did not start"
    xdotool(root, "key", *keys)
    assert pump(root, lambda: not recorder.recording, timeout=3), "the key press did not reach the recorder"


def on_disk(path):
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def test_fps_and_a_recorded_hotkey_are_saved_to_the_file(open_settings, settings_file, tk_root):
    saved = []
    window = open_settings(on_saved=lambda s: saved.append(s) or [])
    show_tab(window, "Capture")
    type_into(tk_root, window.widgets["capture.fps"], "60")
    assert window.vars["capture.fps"].get() == "60"
    show_tab(window, "Hotkeys")
    record(tk_root, window, "hotkeys.capture_region", "ctrl+alt+h")
    assert window.vars["hotkeys.capture_region"].get() == "<ctrl>+<alt>+h"
    assert window.recorders["hotkeys.capture_region"].entry.get() == "<ctrl>+<alt>+h"
    screenshot("settings-window-hotkeys")
    assert window.validate() == {}
    click(tk_root, window.save_button)
    assert pump(tk_root, lambda: window.closed, timeout=5), window.status.cget("text")
    data = on_disk(settings_file)
    assert data["capture"]["fps"] == 60 and data["hotkeys"]["capture_region"] == "<ctrl>+<alt>+h"
    assert data["hotkeys"]["capture_screen"] == "<ctrl>+<alt>+a"  # the rest kept
    assert saved and saved[0].capture.fps == 60 and saved[0].hotkeys.capture_region == "<ctrl>+<alt>+h"


def test_an_invalid_value_shows_the_schema_error_and_save_writes_nothing(open_settings, settings_file, tk_root):
    from tray import config

    before = settings_file.read_bytes(), settings_file.stat().st_mtime_ns
    window = open_settings()
    show_tab(window, "Capture")
    type_into(tk_root, window.widgets["capture.fps"], "500")
    shown = window.errors["capture.fps"].cget("text")
    with pytest.raises(config.ConfigError) as refused:  # what `snaplark config set capture.fps 500` says
        config.set_value(settings_file, "capture.fps", "500")
    assert shown == "capture.fps = 500: must be between 1 and 120" and shown in str(refused.value)
    screenshot("settings-window-invalid")
    click(tk_root, window.save_button)
    pump(tk_root, timeout=0.3)
    assert not window.closed and "to fix" in window.status.cget("text")
    assert (settings_file.read_bytes(), settings_file.stat().st_mtime_ns) == before
    type_into(tk_root, window.widgets["capture.fps"], "abc")
    assert window.errors["capture.fps"].cget("text") == "capture.fps = 'abc': expected an integer, got str"
    type_into(tk_root, window.widgets["capture.fps"], "24")
    assert window.errors["capture.fps"].cget("text") == ""
    window.cancel()  # Cancel discards the valid change too
    assert (settings_file.read_bytes(), settings_file.stat().st_mtime_ns) == before


def test_two_hotkeys_with_one_combination_and_shift_digit_are_refused_at_once(open_settings, settings_file,
                                                                              tk_root):
    before = settings_file.read_bytes()
    window = open_settings()
    show_tab(window, "Hotkeys")
    record(tk_root, window, "hotkeys.capture_region", "ctrl+alt+a")  # capture_screen's combination
    shown = window.errors["hotkeys.capture_region"].cget("text")
    assert shown.startswith("hotkeys.capture_region = '<ctrl>+<alt>+a': <ctrl>+<alt>+a is already used by "
                            "hotkeys.capture_screen"), shown
    assert window.errors["hotkeys.capture_screen"].cget("text") == ""  # the one changed is the one refused
    screenshot("settings-window-hotkey-conflict")
    record(tk_root, window, "hotkeys.capture_region", "ctrl+shift+1")
    assert window.vars["hotkeys.capture_region"].get() == "<ctrl>+<shift>+1"
    assert "Shift+1 never fires" in window.errors["hotkeys.capture_region"].cget("text")
    assert not window.save() and settings_file.read_bytes() == before
    record(tk_root, window, "hotkeys.capture_region", "BackSpace")  # Backspace alone: turned off
    assert window.vars["hotkeys.capture_region"].get() == "" and window.validate() == {}


def test_start_at_login_writes_the_autostart_entry(open_settings, settings_file, tmp_path, tk_root):
    entry = tmp_path / "xdg" / "autostart"
    window = open_settings()
    assert not window.start_at_login.get()
    window.start_at_login.set(True)
    assert window.save()
    files = list(entry.glob("*.desktop"))
    assert len(files) == 1 and "Exec=" in files[0].read_text()
    window = open_settings()
    assert window.start_at_login.get()  # read back from the adapter


def test_upload_expiry_is_typed_checked_by_the_schema_and_saved(open_settings, settings_file, tk_root):
    """Upload/Server tab: "Delete uploads on the server after" is upload.expires; a bad duration shows the schema's
    message (what `snaplark config set upload.expires 3x` says) and writes nothing; 12h is saved; "never" is valid."""
    from tray import config

    before = settings_file.read_bytes()
    saved = []
    window = open_settings(on_saved=lambda s: saved.append(s) or [])
    show_tab(window, "Upload/Server")
    field = window.widgets["upload.expires"]
    assert window.vars["upload.expires"].get() == ""  # the default: as long as the server keeps it
    type_into(tk_root, field, "3x")
    shown = window.errors["upload.expires"].cget("text")
    with pytest.raises(config.ConfigError) as refused:
        config.set_value(settings_file, "upload.expires", "3x")
    assert shown.startswith("upload.expires = '3x': expected a duration like 7d") and shown in str(refused.value)
    screenshot("settings-window-expires-invalid")
    click(tk_root, window.save_button)
    pump(tk_root, timeout=0.3)
    assert not window.closed and settings_file.read_bytes() == before
    type_into(tk_root, field, "never")
    assert window.errors["upload.expires"].cget("text") == ""
    type_into(tk_root, field, "12h")
    assert window.errors["upload.expires"].cget("text") == "" and window.validate() == {}
    click(tk_root, window.save_button)
    assert pump(tk_root, lambda: window.closed, timeout=5), window.status.cget("text")
    assert on_disk(settings_file)["upload"]["expires"] == "12h"
    assert saved and saved[0].upload.expires == "12h"
