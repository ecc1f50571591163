"""Issue 20, acceptance 1, end to end with the real tray app process (started as tests/e2e/test_desktop_app.py does:
Xvfb, trayer, private D-Bus + gnome-keyring, the embedded server): ``snaplark send open-settings`` opens the Settings
window; a new region-capture hotkey is recorded in it with ``xdotool key`` and saved -> the new combination opens
the selector, the old one does nothing; an invalid value shows the schema's error in the window (read back with the
OCR engine from the screen) and Save writes nothing.

The app runs in another process, so its widgets are found where the same window puts them in this process (the
window of tests/e2e/ui/test_settings_window.py, over a settings file of its own; same display, fonts and theme):
the two windows' sizes are compared before any offset is used.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.e2e.test_desktop_app import desktop, sh, snap, xdo  # noqa: F401 - `desktop`: the running tray app
from tests.e2e.ui.conftest import pump
from tests.e2e.ui.test_settings_window import on_disk, open_settings, show_tab  # noqa: F401 - `open_settings`
from tests.procutil import wait_until

pytestmark = pytest.mark.e2e

TITLE = "Settings$"  # "Snaplark — Settings"


@pytest.fixture
def settings_file(tmp_path):
    """The in-process window's own settings file (the app's is the desktop fixture's cfg/config.toml)."""
    from tray import config

    path = tmp_path / "replica" / "config.toml"
    config.save_config(config.Settings(), path)
    return path


@pytest.fixture
def layout(open_settings, tk_root):
    """Where the Settings window puts what the test clicks: offsets from its top-left corner, and its size."""
    window = open_settings()
    top = window.top

    def at(widget):
        return (widget.winfo_rootx() - top.winfo_rootx() + widget.winfo_width() // 2,
                widget.winfo_rooty() - top.winfo_rooty() + widget.winfo_height() // 2)

    def tab(name):
        nb, index = window.notebook, list(window.tabs).index(name)
        hits = [(x, y) for y in range(2, 40, 2) for x in range(0, nb.winfo_width(), 2)
                if nb.identify(x, y) and _tab_index(nb, x, y) == index]
        assert hits, f"tab {name} not found"
        x, y = hits[len(hits) // 2]
        return nb.winfo_rootx() - top.winfo_rootx() + x, nb.winfo_rooty() - top.winfo_rooty() + y

    places = {"Hotkeys": tab("Hotkeys"), "Capture": tab("Capture"), "save": at(window.save_button),
              "cancel": at(window.cancel_button)}
    show_tab(window, "Hotkeys")
    places["hotkeys.capture_region"] = at(window.recorders["hotkeys.capture_region"].entry)
    show_tab(window, "Capture")
    places["capture.fps"] = at(window.widgets["capture.fps"])
    places["size"] = (top.winfo_width(), top.winfo_height())
    window.close()
    pump(tk_root, timeout=0.2)
    return places


def _tab_index(nb, x, y):
    try:
        return nb.index(f"@{x},{y}")
    except Exception:  # noqa: BLE001 - not over a tab
        return None


def settings_window(timeout=20) -> tuple[int, int, int, int, int]:
    """The app's Settings window: (id, x, y, width, height)."""
    def find():
        found = sh("xdotool", "search", "--onlyvisible", "--name", TITLE).split()
        if not found:
            return None
        geo = dict(line.split("=", 1) for line in sh("xdotool", "getwindowgeometry", "--shell", found[-1]).split())
        return int(found[-1]), int(geo["X"]), int(geo["Y"]), int(geo["WIDTH"]), int(geo["HEIGHT"])

    return wait_until(find, timeout, "the Settings window")


def open_app_settings(env_app) -> tuple[int, int, int, int, int]:
    subprocess.run([sys.executable, "-m", "tray", "send", "open-settings"], check=True, timeout=30,
                   env={**os.environ, "SNAPLARK_CONFIG": env_app["config"]})
    win = settings_window()
    xdo("windowfocus", str(win[0]))  # no window manager: give it the keyboard
    time.sleep(0.3)
    return win


def click_at(win, point) -> None:
    xdo("mousemove", str(win[1] + point[0]), str(win[2] + point[1]), "click", "1")
    time.sleep(0.3)


def window_text(win) -> str:
    from PIL import ImageGrab

    from tray.ocr import TextReader

    image = ImageGrab.grab(bbox=(win[1], win[2], win[1] + win[3], win[2] + win[4]), xdisplay=os.environ["DISPLAY"])
    reader = TextReader()
    try:
        return reader.read(image.resize((image.width * 2, image.height * 2)))
    finally:
        reader.close()


def press_until(app, keys: str, pattern: str, after: int, tries: int = 10) -> None:
    """Press ``keys`` until the app logs ``pattern`` (the listener may still be starting after a save)."""
    for _ in range(tries):
        xdo("key", keys)
        try:
            app.wait_log(pattern, 2, after)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{keys} never gave {pattern!r}:\n{app.log()[after:][-3000:]}")


def test_settings_from_the_running_app_new_hotkey_fires_old_does_not_invalid_value_writes_nothing(desktop, layout):
    from tray import config

    app, _notifications, tmp_path = desktop
    cfg = tmp_path / "cfg" / "config.toml"
    env_app = {"config": str(cfg)}
    assert config.load_config(cfg).hotkeys.capture_region == "<ctrl>+<alt>+s"

    # --- record Ctrl+Alt+H for "capture region" and save ------------------------------------------------------
    win = open_app_settings(env_app)
    assert (win[3], win[4]) == layout["size"], "the app's window is laid out unlike this process's"
    click_at(win, layout["Hotkeys"])
    mark = len(app.log())
    click_at(win, layout["hotkeys.capture_region"])  # the recorder starts: the app's hotkeys are held
    xdo("key", "ctrl+alt+h")
    time.sleep(0.3)
    snap("settings-hotkey-recorded.png")
    click_at(win, layout["save"])
    app.wait_log(r"settings saved to \S+: hotkeys\.capture_region", 15, mark)
    wait_until(lambda: not sh("xdotool", "search", "--onlyvisible", "--name", TITLE).strip(), 10, "window closed")
    assert on_disk(cfg)["hotkeys"]["capture_region"] == "<ctrl>+<alt>+h"
    assert on_disk(cfg)["server"]["embedded_port"] and on_disk(cfg)["capture"]["fps"] == 10  # the rest kept

    # --- the new combination opens the selector ----------------------------------------------------------------
    mark = len(app.log())
    press_until(app, "ctrl+alt+h", r"selector shown", mark)
    xdo("key", "Escape")
    time.sleep(0.5)

    # --- the old one does nothing: pressed before Ctrl+Alt+A (capture screen), which the same listener thread
    # hands on after it -- the annotator opens, and no selector came first ---------------------------------------
    mark = len(app.log())
    xdo("key", "ctrl+alt+s")
    xdo("key", "ctrl+alt+a")
    try:
        app.wait_log(r"annotator shown", 15, mark)
    finally:  # a selector opened by the old combination would also keep the annotator from opening
        assert "selector shown" not in app.log()[mark:], "the old hotkey still opens the selector"
    xdo("key", "Escape")  # nothing drawn: the annotator closes without asking
    wait_until(lambda: not sh("xdotool", "search", "--onlyvisible", "--name", "annotate").strip(), 10,
               "annotator closed")

    # --- an invalid value: the schema's error in the window, nothing written -----------------------------------
    before = cfg.read_bytes(), cfg.stat().st_mtime_ns
    win = open_app_settings(env_app)
    click_at(win, layout["Capture"])
    click_at(win, layout["capture.fps"])
    xdo("key", "End", *["BackSpace"] * 6)
    xdo("key", "--delay", "20", "5", "0", "0")
    time.sleep(0.5)
    shown = window_text(win)
    snap("settings-invalid-value.png")
    with pytest.raises(config.ConfigError) as refused:  # what `snaplark config set capture.fps 500` says
        config.set_value(cfg, "capture.fps", "500")
    assert "must be between 1 and 120" in str(refused.value)
    assert re.search(r"capture\.fps = 500: must be between 1 and 120", shown), shown
    click_at(win, layout["save"])
    time.sleep(0.5)
    assert settings_window()[0] == win[0]  # still open
    assert re.search(r"1 setting\(s\) to fix before saving", window_text(win)), window_text(win)
    assert (cfg.read_bytes(), cfg.stat().st_mtime_ns) == before
    click_at(win, layout["cancel"])
    wait_until(lambda: not sh("xdotool", "search", "--onlyvisible", "--name", TITLE).strip(), 10, "window closed")
    assert (cfg.read_bytes(), cfg.stat().st_mtime_ns) == before
    assert app.proc.poll() is None and "Traceback" not in app.log(), app.log()[-3000:]
