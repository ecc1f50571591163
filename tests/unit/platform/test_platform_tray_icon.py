from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tray.ui.tray_icon import RECENT_LIMIT, RecentUpload, TrayIcon, TrayState, format_elapsed, icon_path


class Commands:
    def __init__(self):
        self.ran = []

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *a: self.ran.append((name, *a))


def make(**kw):
    posted = []
    commands = Commands()
    return TrayIcon(commands, posted.append, **kw), posted, commands


def texts(spec):
    return [e.text for e in spec]


def test_menu_items_per_issue_7_and_default():
    icon, _, _ = make()
    spec = icon.menu_spec()
    assert texts(spec) == ["Capture region", "Capture screen", "Record region", "Record screen", "Stop recording",
                           "Pause recording", "-", "Recent uploads", "History…", "Copy text from region",
                           "Pin last screenshot", "Capture screen in 5 s", "Capture active window",
                           "Open captures folder", "Settings…",
                           "Open settings file", "Log out",
                           "-", "Quit"]
    assert [e.text for e in spec if e.default] == ["Capture region"]


def test_callbacks_only_post():
    icon, posted, commands = make()
    by = {e.text: e for e in icon.menu_spec()}
    for name, expected in [("Capture region", "capture_region"), ("Capture screen", "capture_screen"),
                           ("Record region", "record_region"), ("Record screen", "record_screen"),
                           ("Copy text from region", "copy_text"), ("History…", "open_history"),
                           ("Pin last screenshot", "pin_last"), ("Capture screen in 5 s", "capture_screen_delayed"),
                           ("Capture active window", "capture_active_window"),
                           ("Open captures folder", "open_captures_folder"), ("Settings…", "open_settings"),
                           ("Open settings file", "open_settings_file"),
                           ("Log out", "logout"), ("Quit", "quit")]:
        by[name].action()
        assert commands.ran == []  # nothing ran on the tray thread
        posted.pop()()
        assert commands.ran.pop() == (expected,)


def test_recording_state_enables_stop_and_pause_resume_label():
    icon, posted, commands = make()
    icon.set_recording(True)
    by = {e.text: e for e in icon.menu_spec()}
    assert by["Stop recording"].enabled and by["Pause recording"].enabled
    assert not by["Record region"].enabled and not by["Record screen"].enabled
    icon.set_recording(True, paused=True)
    by = {e.text: e for e in icon.menu_spec()}
    by["Resume recording"].action()
    posted.pop()()
    assert commands.ran == [("toggle_pause",)]


def test_login_logout_toggle():
    icon, posted, commands = make()
    icon.set_logged_in(False)
    by = {e.text: e for e in icon.menu_spec()}
    assert "Log out" not in by
    by["Log in"].action()
    posted.pop()()
    assert commands.ran == [("login",)]


def test_recent_uploads_last_ten_click_copies_link_and_delete_link_lists_them_again():
    icon, posted, commands = make()
    assert [e.text for e in icon.menu_spec()[7].submenu] == ["No uploads yet"]
    assert not icon.menu_spec()[7].submenu[0].enabled
    for i in range(15):
        icon.add_recent(RecentUpload(f"Upload {i}", f"http://h/{i}"))
    icon.add_recent(RecentUpload("Upload 3 again", "http://h/3"))  # moves to the top, no duplicate
    sub = icon.menu_spec()[7].submenu
    assert len(sub) == RECENT_LIMIT + 2  # the uploads, a separator, "Delete link…"
    assert sub[0].text == "Upload 3 again" and sub[1].text == "Upload 14"
    sub[1].action()
    posted.pop()()
    assert commands.ran == [("copy_link", "http://h/14")]
    assert sub[RECENT_LIMIT].separator and sub[-1].text == "Delete link…"
    assert texts(sub[-1].submenu) == texts(sub[:RECENT_LIMIT])
    sub[-1].submenu[2].action()  # "Upload 13": the tray thread only posts
    assert commands.ran == [("copy_link", "http://h/14")]
    posted.pop()()
    assert commands.ran[-1] == ("delete_link", "http://h/13")
    icon.set_recent([RecentUpload("x" * 100, "http://h/long")])
    assert len(icon.menu_spec()[7].submenu[0].text) == 48
    assert len(icon.menu_spec()[7].submenu[-1].submenu[0].text) == 48


@pytest.mark.parametrize("state,kw,tooltip", [
    (TrayState.IDLE, {}, "Snaplark (Ctrl+Alt+S to capture)"),
    (TrayState.RECORDING, {"elapsed": 3725}, "Snaplark — Recording 1:02:05"),
    (TrayState.UPLOADING, {"percent": 7}, "Snaplark — Uploading 7%"),
    (TrayState.UPLOADING, {}, "Snaplark — Uploading…"),
    (TrayState.OFFLINE, {}, "Snaplark — Offline; uploads resume automatically"),
    (TrayState.NEEDS_LOGIN, {}, "Snaplark — Log in needed (run snaplark login)"),
])
def test_tooltips(state, kw, tooltip):
    icon, _, _ = make(capture_hotkey="Ctrl+Alt+S")
    icon.set_state(state, **kw)
    assert icon.tooltip() == tooltip


def test_paused_recording_tooltip_and_elapsed_format():
    icon, _, _ = make()
    icon.set_recording(True, paused=True)
    icon.set_state(TrayState.RECORDING, elapsed=59.9)
    assert icon.tooltip() == "Snaplark — Paused 00:59"
    assert format_elapsed(-3) == "00:00"


@pytest.mark.parametrize("state", list(TrayState))
@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_icons_exist_for_every_state_and_size(state, size):
    path = icon_path(state, size)
    with Image.open(path) as img:
        assert img.size == (size, size) and img.mode == "RGBA"


def test_icons_are_up_to_date_with_generator(tmp_path):
    import importlib.util

    gen = Path(__file__).resolve().parents[3] / "icons" / "generate.py"
    spec = importlib.util.spec_from_file_location("icon_generate", gen)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for state in ("idle", "recording"):
        fresh = module.draw(state, 32)
        with Image.open(icon_path(TrayState(state), 32)) as committed:
            assert list(fresh.getdata()) == list(committed.convert("RGBA").getdata()), \
                "icons/*.png are stale: run python icons/generate.py"


class Adapter:
    def __init__(self, host=(True, "ok"), fail=None):
        self.host = host
        self.fail = fail
        self.started = []

    def tray_host_available(self):
        return self.host

    def import_pystray(self):
        if self.fail:
            raise self.fail
        raise AssertionError("not reached in these tests")


def test_no_tray_host_reports_once_and_returns_false():
    told = []
    icon, _, _ = make(adapter=Adapter(host=(False, "no system tray host is running")),
                      on_unavailable=told.append, capture_hotkey="Ctrl+Alt+S")
    assert icon.start() is False
    assert icon.available is False
    assert told == ["No tray icon: no system tray host is running. Snaplark keeps running; use the global "
                    "hotkeys (Ctrl+Alt+S)."]


def test_backend_failure_is_reported_not_raised():
    told = []
    icon, _, _ = make(adapter=Adapter(fail=ImportError("Namespace AppIndicator3 not available")),
                      on_unavailable=told.append)
    assert icon.start() is False
    assert "AppIndicator3" in icon.unavailable_reason and len(told) == 1


def test_state_setters_before_start_are_safe():
    icon, _, _ = make()
    icon.set_state(TrayState.UPLOADING, percent=5)
    icon.set_recent([])
    icon.stop()
    assert icon.state is TrayState.UPLOADING


class FakePystray:
    """Just enough of pystray's object model to build the menu."""

    class Menu:
        SEPARATOR = "---"

        def __init__(self, *items):
            self.items = items

    class MenuItem:
        def __init__(self, text, action, enabled=True, default=False):
            self.text, self.action, self.enabled, self.default = text, action, enabled, default


class FakeIcon:
    def __init__(self, name, image, title, menu):
        self.name, self.icon, self.title, self.menu = name, image, title, menu
        self.menu_updates = 0

    def update_menu(self):
        self.menu_updates += 1


class LateHostAdapter:
    def __init__(self):
        self.host = False
        self.started = []

    def tray_host_available(self):
        return (True, "ok") if self.host else (False, "no system tray host is running")

    def can_wait_for_host(self):
        return True

    def import_pystray(self):
        return FakePystray

    def make_icon(self, pystray, *args, **kwargs):
        return FakeIcon(*args, **kwargs)

    def start(self, icon, on_exit=None):
        self.started.append(icon)
        return None

    def stop(self, icon, thread):
        self.started.remove(icon)


def test_no_host_on_x11_still_creates_icon_and_notices_a_late_host():
    adapter = LateHostAdapter()
    told = []
    icon, posted, commands = make(adapter=adapter, on_unavailable=told.append)
    assert icon.start() is False and len(adapter.started) == 1 and len(told) == 1
    fake = adapter.started[0]
    assert fake.title == "Snaplark" and fake.icon.size == (64, 64)
    # the dynamic pystray menu is built from menu_spec(); its default item posts capture_region
    items = fake.menu.items[0]()
    default = [i for i in items if getattr(i, "default", False)]
    assert [i.text for i in default] == ["Capture region"]
    default[0].action(None, None)
    posted.pop()()
    assert commands.ran == [("capture_region",)]
    assert icon.check_host() is False
    adapter.host = True
    assert icon.check_host() is True and icon.available is True and icon.unavailable_reason is None
    icon.set_state(TrayState.OFFLINE)
    assert fake.title.endswith("Offline; uploads resume automatically") and fake.menu_updates == 1
    assert len(told) == 1
    icon.stop()
    assert adapter.started == []
