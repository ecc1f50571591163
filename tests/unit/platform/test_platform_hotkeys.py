from __future__ import annotations

import pytest

from tray.ui.hotkeys import GlobalHotkeys, HotkeyError, parse_hotkey, parse_hotkeys
from tray_platform.windows import hotkeys as win_hotkeys

DEFAULTS = {"capture_region": "<ctrl>+<alt>+s", "capture_screen": "<ctrl>+<alt>+a",
            "record_region": "<ctrl>+<alt>+r", "stop_recording": "<ctrl>+<alt>+q",
            "pause_recording": "<ctrl>+<alt>+p"}


def test_defaults_are_valid():
    valid, errors = parse_hotkeys(DEFAULTS)
    assert errors == [] and set(valid) == set(DEFAULTS)


@pytest.mark.parametrize("text,pynput,display", [
    ("<ctrl>+<alt>+s", "<ctrl>+<alt>+s", "Ctrl+Alt+S"),
    ("<Alt>+<CTRL>+S", "<ctrl>+<alt>+s", "Ctrl+Alt+S"),
    ("<f9>", "<f9>", "F9"),
    ("<cmd>+<print_screen>", "<cmd>+<print_screen>", "Super+Print Screen"),
    ("<cmd>+<shift>+x", "<shift>+<cmd>+x", "Shift+Super+X"),
    ("<ctrl>+<alt>+/", "<ctrl>+<alt>+/", "Ctrl+Alt+/"),
    ("<ctrl_l>+<alt_r>+<space>", "<ctrl>+<alt>+<space>", "Ctrl+Alt+Space"),
    ("Ctrl+Alt+S", "<ctrl>+<alt>+s", "Ctrl+Alt+S"),
])
def test_parse_normalises(text, pynput, display):
    hk = parse_hotkey("hotkeys.x", text)
    assert hk.pynput() == pynput
    assert hk.display("linux") == display


@pytest.mark.parametrize("text,fragment", [
    ("", "empty"),
    ("<ctrl>+<alt>+", "ends with '+'"),
    ("<ctrl>+<alt>", "only modifiers"),
    ("<ctrl>+<hyper>+s", "unknown key '<hyper>'"),
    ("ctrl+alt+ss", "unknown key 'ss'"),
    ("<ctrl>+ab", "unknown key 'ab'"),
    ("<ctrl>+a+b", "more than one key besides the modifiers"),
    ("s", "needs Ctrl, Alt or Super"),
    ("<shift>+s", "needs Ctrl, Alt or Super"),
    ("<ctrl>+<ctrl>+s", "Ctrl is given twice"),
])
def test_invalid_strings_name_the_setting(text, fragment):
    with pytest.raises(HotkeyError) as info:
        parse_hotkey("hotkeys.capture_region", text)
    msg = str(info.value)
    assert msg.startswith("hotkeys.capture_region = ")
    assert fragment in msg
    assert info.value.setting == "hotkeys.capture_region"


@pytest.mark.parametrize("text", ["<ctrl>+<shift>+1", "<alt>+<shift>+9"])
def test_shift_digit_refused_with_explanation(text):
    with pytest.raises(HotkeyError, match="never fires: on X11"):
        parse_hotkey("hotkeys.capture_screen", text)


def test_duplicate_combination_is_refused_naming_both():
    valid, errors = parse_hotkeys({"capture_region": "<ctrl>+<alt>+s", "record_region": "<alt>+<ctrl>+S"})
    assert list(valid) == ["capture_region"]
    assert "hotkeys.record_region" in str(errors[0]) and "hotkeys.capture_region" in str(errors[0])


def test_empty_setting_disables_without_error():
    valid, errors = parse_hotkeys({"capture_region": "<ctrl>+<alt>+s", "pause_recording": ""})
    assert list(valid) == ["capture_region"] and errors == []


class FakeAdapter:
    def __init__(self, taken=None, fail_start=None, x11=True):
        self.taken = taken or {}
        self.fail_start = fail_start
        self.x11 = x11
        self.mapping = None
        self.stopped = False

    def is_x11(self):
        return self.x11

    def find_grab_conflicts(self, hotkeys):
        return {hk.setting: self.taken[hk.setting] for hk in hotkeys if hk.setting in self.taken}

    def start_listener(self, mapping):
        if self.fail_start:
            raise self.fail_start
        self.mapping = mapping
        return object()

    def stop_listener(self, listener, timeout):
        self.stopped = True


def test_global_hotkeys_registers_valid_reports_invalid_and_taken():
    fired, posted, problems = [], [], []
    adapter = FakeAdapter(taken={"hotkeys.record_region": "X11 key grab held by another client"})
    gh = GlobalHotkeys({
        "capture_region": ("<ctrl>+<alt>+s", lambda: fired.append("capture")),
        "capture_screen": ("<ctrl>+<shift>+2", lambda: fired.append("screen")),
        "record_region": ("<ctrl>+<alt>+r", lambda: fired.append("record")),
    }, posted.append, on_problem=problems.append, os_name="linux", adapter=adapter)
    result = gh.start()
    assert set(gh.registered) == {"capture_region"}
    assert set(adapter.mapping) == {"<ctrl>+<alt>+s"}
    assert {p.setting for p in result} == {"hotkeys.capture_screen", "hotkeys.record_region"}
    assert problems == result
    taken = next(p for p in result if p.setting == "hotkeys.record_region")
    assert "already taken by another application" in taken.message and "Ctrl+Alt+R" in taken.message
    # pressing the hotkey only posts; the command runs when the dispatcher runs it
    adapter.mapping["<ctrl>+<alt>+s"]()
    assert fired == [] and len(posted) == 1
    posted[0]()
    assert fired == ["capture"]
    gh.stop()
    assert adapter.stopped


def test_listener_failure_is_reported_for_every_hotkey():
    problems = []
    gh = GlobalHotkeys({"capture_region": ("<ctrl>+<alt>+s", lambda: None)}, lambda f: f(),
                       on_problem=problems.append, os_name="macos",
                       adapter=FakeAdapter(fail_start=PermissionError("accessibility not granted"), x11=False))
    gh.start()
    assert gh.registered == {} and "accessibility not granted" in problems[0].message


class FakeUser32:
    def __init__(self, taken):
        self.taken = taken
        self.registered = []

    def RegisterHotKey(self, hwnd, hid, flags, vk):  # noqa: N802 - Win32 name
        if (flags & ~win_hotkeys.MOD_NOREPEAT, vk) in self.taken:
            return 0
        self.registered.append(hid)
        return 1

    def UnregisterHotKey(self, hwnd, hid):  # noqa: N802
        self.registered.remove(hid)
        return 1


def test_windows_conflict_detection_with_fake_user32():
    a = parse_hotkey("hotkeys.capture_region", "<ctrl>+<alt>+s")
    b = parse_hotkey("hotkeys.stop_recording", "<ctrl>+<shift>+<f9>")
    user32 = FakeUser32({(win_hotkeys.MOD_CONTROL | win_hotkeys.MOD_SHIFT, 0x78)})
    conflicts = win_hotkeys.find_grab_conflicts([a, b], user32=user32)
    assert list(conflicts) == ["hotkeys.stop_recording"]
    assert user32.registered == []  # the test registration was undone


def test_wayland_session_is_reported_but_hotkeys_still_registered():
    from tray_platform.linux.hotkeys import session_warning

    assert session_warning({"DISPLAY": ":0"}) is None
    assert "Wayland" in session_warning({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"})

    class WaylandAdapter(FakeAdapter):
        def session_warning(self):
            return session_warning({"XDG_SESSION_TYPE": "wayland"})

    problems = []
    adapter = WaylandAdapter()
    gh = GlobalHotkeys({"capture_region": ("<ctrl>+<alt>+s", lambda: None)}, lambda f: f(),
                       on_problem=problems.append, os_name="linux", adapter=adapter)
    gh.start()
    assert list(gh.registered) == ["capture_region"] and set(adapter.mapping) == {"<ctrl>+<alt>+s"}
    assert len(problems) == 1 and problems[0].setting == "hotkeys" and "snaplark shot" in problems[0].message
