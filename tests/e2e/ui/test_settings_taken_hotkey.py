"""Settings → Hotkeys shows a combination the OS would refuse because another application holds it (issue 20: "the
OS's already-grabbed combos"), in the window, checked as registration checks it (X11: a test XGrabKey that fails
with BadAccess): another real X client grabs Ctrl+Alt+H / Ctrl+Alt+A on the shared Xvfb; the combination recorded
with ``xdotool`` (or already in the settings file) is named next to its field with registration's own words, the
status line counts it, a free one clears it, and Save still writes (the other application may let go). While
recording, the field holds the keyboard (else the other application's grab would take the keys first)."""

from __future__ import annotations

import pytest

from tests.e2e.ui.conftest import pump, screenshot
from tests.e2e.ui.test_settings_window import (click, on_disk, open_settings, record,  # noqa: F401
                                               settings_file, show_tab)
from tests.x11_grab import other_client_holds_ctrl_alt

pytestmark = pytest.mark.e2e

TAKEN = "is already taken by another application (X11 key grab held by another client); both would react"


def test_a_recorded_combination_another_application_holds_is_named_in_the_window(open_settings, settings_file,
                                                                                 tk_root):
    with other_client_holds_ctrl_alt("h"):
        window = open_settings(on_saved=lambda s: [])
        show_tab(window, "Hotkeys")
        assert window.errors["hotkeys.capture_region"].cget("text") == ""  # Ctrl+Alt+S: free
        record(tk_root, window, "hotkeys.capture_region", "ctrl+alt+h")
        assert window.vars["hotkeys.capture_region"].get() == "<ctrl>+<alt>+h"
        label = window.errors["hotkeys.capture_region"].cget("text")
        assert label == f"hotkeys.capture_region = '<ctrl>+<alt>+h': Ctrl+Alt+H {TAKEN}. Choose another combination."
        assert window.status.cget("text").startswith("1 hotkey(s) taken by another application")
        pump(tk_root, timeout=0.2)
        screenshot("settings-hotkey-taken")
        record(tk_root, window, "hotkeys.capture_region", "ctrl+alt+j")  # a free one: nothing to say
        assert window.errors["hotkeys.capture_region"].cget("text") == "" and window.status.cget("text") == ""

        recorder = window.recorders["hotkeys.capture_region"]  # recording holds the pointer: a click outside
        click(tk_root, recorder.entry)                           # cancels, and does not press the button under it
        assert pump(tk_root, lambda: recorder.recording, timeout=3)
        click(tk_root, window.cancel_button)
        assert pump(tk_root, lambda: not recorder.recording, timeout=3), "a click outside did not cancel"
        assert not window.closed and window.vars["hotkeys.capture_region"].get() == "<ctrl>+<alt>+j"


def test_a_saved_combination_another_application_holds_is_named_on_opening_and_save_still_writes(
        open_settings, settings_file, tk_root):
    with other_client_holds_ctrl_alt("a"):  # the default Capture screen hotkey
        window = open_settings(on_saved=lambda s: [])
        assert TAKEN in window.errors["hotkeys.capture_screen"].cget("text")
        assert "Ctrl+Alt+A" in window.errors["hotkeys.capture_screen"].cget("text")
        assert [key for key, label in window.errors.items() if label.cget("text")] == ["hotkeys.capture_screen"]
        window.vars["capture.fps"].set("24")
        assert window.save() is True
    assert on_disk(settings_file)["capture"]["fps"] == 24
    assert on_disk(settings_file)["hotkeys"]["capture_screen"] == "<ctrl>+<alt>+a"
