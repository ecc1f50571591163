"""The hotkey grammar against a real X server (Xvfb + xdotool + pynput): a hotkey written the README's way in the
settings file fires; the spellings the grammar accepts fire; the ones it refuses for X11 reasons really never fire.
"""

from __future__ import annotations

import queue

import pytest

from tests.e2e.desktop.test_desktop_hotkeys import posted, xdotool  # noqa: F401 - fixture reused
from tray import config
from tray.ui.hotkeys import GlobalHotkeys, HotkeyError, canonical_hotkey, parse_hotkey

pytestmark = pytest.mark.e2e


def test_readme_spelling_in_the_config_file_fires(desktop_display, posted, tmp_path):  # noqa: F811
    """`record_region = "Ctrl+Alt+K"` in config.toml -> loaded, registered as the tray app does -> xdotool fires it."""
    path = tmp_path / "config.toml"
    path.write_text('schema_version = 2\n[hotkeys]\nrecord_region = "Ctrl+Alt+K"\nstop_recording = ""\n')
    hotkeys = config.load_config(path).hotkeys
    fired = []
    bindings = {name: (getattr(hotkeys, name), lambda name=name: fired.append(name))
                for name in ("capture_region", "record_region", "stop_recording") if getattr(hotkeys, name)}
    gh = GlobalHotkeys(bindings, posted.put, os_name="linux")
    assert gh.start() == []
    try:
        assert gh.registered["record_region"].pynput() == "<ctrl>+<alt>+k"
        xdotool("key", "ctrl+alt+k")
        posted.get(timeout=5)()
        xdotool("key", "ctrl+alt+s")
        posted.get(timeout=5)()
        assert fired == ["record_region", "capture_region"]
    finally:
        gh.stop()


@pytest.mark.parametrize("written,press", [
    ("Super+S", "super+s"),
    ("Ctrl+Alt+1", "ctrl+alt+1"),
    ("Ctrl+Alt+/", "ctrl+alt+slash"),
    ("Ctrl + Alt + Space", "ctrl+alt+space"),
    ("Ctrl+Alt+Esc", "ctrl+alt+Escape"),
    ("Ctrl+Alt+Page Up", "ctrl+alt+Prior"),
    ("Ctrl+Shift+Home", "ctrl+shift+Home"),
    ("Print", "Print"),
    ("Pause", "Pause"),
    ("Shift+F8", "shift+F8"),
    ("Alt+F9", "alt+F9"),
    ("Ctrl+Alt+Shift+F5", "ctrl+alt+shift+F5"),
    # python-xlib knows the media keys as 'XF86_AudioPlay' in a group loaded on request: _keysym loads it
    ("<media_play_pause>", "XF86AudioPlay"),
])
def test_accepted_spellings_fire(desktop_display, posted, written, press):  # noqa: F811
    fired = []
    gh = GlobalHotkeys({"capture_screen": (written, lambda: fired.append(written))}, posted.put, os_name="linux")
    assert gh.start() == []
    try:
        xdotool("key", press)
        posted.get(timeout=5)()
        assert fired == [written]
    finally:
        gh.stop()


@pytest.mark.parametrize("written,pynput_string,press", [
    ("Shift+Print", "<shift>+<print_screen>", "shift+Print"),  # X: Sys_Req
    ("Shift+Pause", "<shift>+<pause>", "shift+Pause"),  # X: Break
    ("Ctrl+Shift+Tab", "<ctrl>+<shift>+<tab>", "ctrl+shift+Tab"),  # X: ISO_Left_Tab
    ("Ctrl+Alt+F9", "<ctrl>+<alt>+<f9>", "ctrl+alt+F9"),  # X: XF86Switch_VT_9
    ("Ctrl+Shift+/", "<ctrl>+<shift>+/", "ctrl+shift+slash"),  # X: question
])
def test_why_these_are_refused_pynput_never_fires_them(desktop_display, written, pynput_string, press):
    """The grammar refuses these; raw pynput shows why (if pynput/X ever fire them, the refusal can go)."""
    from tray_platform.linux.hotkeys import start_listener, stop_listener

    with pytest.raises(HotkeyError):
        parse_hotkey("hotkeys.capture_screen", written)
    fired = queue.Queue()
    listener = start_listener({pynput_string: lambda: fired.put("refused"),
                               canonical_hotkey("Ctrl+Alt+K"): lambda: fired.put("k")})
    try:
        xdotool("key", press)
        xdotool("key", "ctrl+alt+k")  # a sentinel that does fire, so we know the events were processed
        assert fired.get(timeout=5) == "k"
        assert fired.empty()
    finally:
        stop_listener(listener)
