"""Which save dialog the annotator uses and what it proposes (issue 12 #14): GTK's where it loads (Linux), Tk's
otherwise (on Windows and macOS Tk's is the system dialog); ``$SNAPLARK_SAVE_DIALOG`` overrides; the dialog opens
in the captures folder with ``Screenshot <date> <time>.png``."""

import time

import pytest

from tray.ui.annotator.save_chooser import (
    ENV_SAVE_DIALOG, choose_save_chooser, default_filename, platform_order)


class Fake:
    def __init__(self, name):
        self.name = name

    def ask(self, parent, folder, filename, on_done):  # pragma: no cover - not shown here
        on_done(None)


def loads(name):
    return lambda: Fake(name)


def fails(exc):
    def load():
        raise exc
    return load


def test_default_filename_is_dated_and_portable():
    now = time.mktime((2026, 12, 6, 14, 3, 12, 0, 0, -1))  # local time
    assert default_filename(now) == "Screenshot 2026-12-06 14-03-12.png"
    assert ":" not in default_filename() and default_filename().endswith(".png")


@pytest.mark.parametrize("platform, order", [("linux", ("gtk", "tk")), ("freebsd14", ("gtk", "tk")),
                                             ("win32", ("tk",)), ("darwin", ("tk",))])
def test_platform_order(platform, order):
    assert platform_order(platform) == order


def test_linux_picks_gtk_when_it_loads():
    choice = choose_save_chooser({}, "linux", {"gtk": loads("gtk"), "tk": loads("tk")})
    assert choice.chooser.name == "gtk" and choice.skipped == {}


def test_linux_falls_back_to_tk_and_says_why():
    choice = choose_save_chooser({}, "linux", {"gtk": fails(ImportError("No module named 'gi'")),
                                               "tk": loads("tk")})
    assert choice.chooser.name == "tk"
    assert choice.skipped == {"gtk": "ImportError: No module named 'gi'"}


def test_windows_and_macos_use_tk_without_trying_gtk():
    tried = []

    def gtk():
        tried.append("gtk")
        return Fake("gtk")

    for platform in ("win32", "darwin"):
        assert choose_save_chooser({}, platform, {"gtk": gtk, "tk": loads("tk")}).chooser.name == "tk"
    assert tried == []


def test_env_override_first_and_unknown_value_reported():
    backends = {"gtk": loads("gtk"), "tk": loads("tk")}
    assert choose_save_chooser({ENV_SAVE_DIALOG: "tk"}, "linux", backends).chooser.name == "tk"
    assert choose_save_chooser({ENV_SAVE_DIALOG: " GTK "}, "win32", backends).chooser.name == "gtk"
    choice = choose_save_chooser({ENV_SAVE_DIALOG: "kde"}, "linux", backends)
    assert choice.chooser.name == "gtk" and "kde" in choice.skipped
