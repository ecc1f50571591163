"""The tray menu's Sound submenu (issue 14), as the tray shows it (the real TrayIcon menu model, never started):
toggles and the microphone choice are written to the settings file like ``snaplark config set`` and used by the app
from then on; ``auto`` reads as "microphone on" when one exists; listing the devices never blocks the menu (it runs
on a helper thread with a cache). No display, no audio server: the device listing (the OS edge) is a function."""

from __future__ import annotations

import threading
import tomllib

import pytest

from tray_platform.base import AudioDevice, AudioUnavailable

from tray import config
from tray.ui.sound_menu import RECORDING_NOTE, SoundMenu
from tray.ui.tray_icon import TrayIcon

DESK = AudioDevice("alsa_input.desk", "Desk Mic", "mic", True)
USB = AudioDevice("alsa_input.usb", "USB Headset", "mic")
MONITOR = AudioDevice("speakers.monitor", "Monitor of Speakers", "monitor", True)


class Lister:
    """The OS adapter's ``devices()``: counts calls; can be held (a slow audio server) or fail."""

    def __init__(self, devices=(DESK, USB, MONITOR)):
        self.devices = list(devices)
        self.calls = 0
        self.gate: threading.Event | None = None
        self.problem: str | None = None

    def __call__(self):
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.problem:
            raise AudioUnavailable(self.problem)
        return list(self.devices)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def tray(tmp_path):
    """(ctx, sound menu, tray icon, lister, clock, posted): the tray app's own menu (``make_tray_icon``) over a
    settings file in tmp_path; the commands the menu posts wait in ``posted``."""
    from tray.ui.desktop import DesktopApp

    posted: list = []
    app = DesktopApp(config.Settings(), config_path=tmp_path / "config.toml")
    app.dispatcher = type("Dispatcher", (), {"post": staticmethod(posted.append)})()
    lister, clock = Lister(), Clock()
    app.sound = SoundMenu(app.ctx, list_devices=lister, clock=clock)
    app.tray = app.make_tray_icon()
    app.sound.on_change = app.tray.refresh_menu
    return app.ctx, app.sound, app.tray, lister, clock, posted


def submenu(icon, recording=False):
    icon.set_recording(recording)
    return next(e for e in icon.menu_spec() if e.text == "Sound").submenu


def by_text(entries):
    return {e.text: e for e in entries}


def click(entry, posted):
    entry.action()
    while posted:
        posted.pop(0)()


def saved_capture(ctx) -> dict:
    return tomllib.loads(ctx.config_path.read_text()).get("capture", {})


def listed(sound, icon):
    submenu(icon)  # the first build starts the listing
    assert sound.wait_listed(5)


def test_auto_reads_mic_on_and_toggles_write_the_settings_file(tray):
    ctx, sound, icon, lister, clock, posted = tray
    listed(sound, icon)
    items = by_text(submenu(icon))
    assert ctx.settings.capture.audio == "auto"
    assert items["Microphone"].checked is True and items["System sound"].checked is False
    click(items["System sound"], posted)
    assert saved_capture(ctx)["audio"] == "both" and ctx.settings.capture.audio == "both"
    click(by_text(submenu(icon))["Microphone"], posted)
    assert saved_capture(ctx)["audio"] == "system" and ctx.settings.capture.audio == "system"
    items = by_text(submenu(icon))
    assert items["Microphone"].checked is False and items["System sound"].checked is True
    click(items["System sound"], posted)
    assert saved_capture(ctx)["audio"] == "none"
    # the file is a whole, valid settings file (what `snaplark config get` reads back)
    assert config.load_config(ctx.config_path).capture.audio == "none"


def test_auto_without_a_microphone_reads_mic_off(tray):
    ctx, sound, icon, lister, clock, posted = tray
    lister.devices = [MONITOR]
    listed(sound, icon)
    items = by_text(submenu(icon))
    assert items["Microphone"].checked is False
    assert [e.text for e in items["Microphone device"].submenu] == ["System default", "No microphone found"]
    click(items["System sound"], posted)
    assert saved_capture(ctx)["audio"] == "system"


def test_microphone_choice_lists_the_mics_checks_the_current_one_and_saves_the_id(tray):
    ctx, sound, icon, lister, clock, posted = tray
    listed(sound, icon)
    devices = by_text(submenu(icon))["Microphone device"].submenu
    assert [(e.text, e.checked, e.radio) for e in devices] == [
        ("System default", True, True), ("Desk Mic", False, True), ("USB Headset", False, True)]
    click(devices[2], posted)
    assert saved_capture(ctx)["mic_device"] == "alsa_input.usb" and ctx.settings.capture.mic_device == USB.id
    devices = by_text(submenu(icon))["Microphone device"].submenu
    assert [e.text for e in devices if e.checked] == ["USB Headset"]
    lister.devices = [DESK, MONITOR]  # the headset is unplugged: still the setting, shown as such
    clock.now += 11
    listed(sound, icon)
    devices = by_text(submenu(icon))["Microphone device"].submenu
    assert [(e.text, e.enabled) for e in devices if e.checked] == [("alsa_input.usb (not connected)", False)]
    click(devices[0], posted)
    assert saved_capture(ctx)["mic_device"] == "" and ctx.settings.capture.mic_device == ""


def test_listing_never_blocks_the_menu_and_is_cached(tray):
    ctx, sound, icon, lister, clock, posted = tray
    lister.gate = threading.Event()  # the audio server takes its time
    refreshed = []
    sound.on_change = lambda: refreshed.append(True)
    items = by_text(submenu(icon))  # returns at once, while the listing waits
    assert [e.text for e in items["Microphone device"].submenu] == ["System default", "Looking for microphones…"]
    assert items["Microphone"].checked is True  # auto, not known yet: the microphone is the default
    submenu(icon)
    assert lister.calls == 1  # one listing under way, not one per build
    lister.gate.set()
    assert sound.wait_listed(5) and refreshed == [True]  # the menu is rebuilt with the list
    lister.gate = None
    for _ in range(3):
        submenu(icon)
    assert lister.calls == 1  # cached
    clock.now += 11
    submenu(icon)
    assert sound.wait_listed(5) and lister.calls == 2 and refreshed == [True]  # same list: no rebuild


def test_no_audio_server_is_said_in_the_menu(tray):
    ctx, sound, icon, lister, clock, posted = tray
    lister.problem = "no PulseAudio/PipeWire server"
    listed(sound, icon)
    texts = [e.text for e in by_text(submenu(icon))["Microphone device"].submenu]
    assert texts == ["System default", "No audio devices: no PulseAudio/PipeWire server"]


def test_while_recording_the_menu_says_changes_apply_to_the_next_recording(tray):
    ctx, sound, icon, lister, clock, posted = tray
    listed(sound, icon)
    items = submenu(icon, recording=True)
    assert items[0].text == RECORDING_NOTE and not items[0].enabled
    click(by_text(items)["System sound"], posted)  # still changeable: for the next recording
    assert saved_capture(ctx)["audio"] == "both"
    assert submenu(icon)[0].text == "Microphone"


def test_a_broken_settings_file_is_reported_and_left_alone(tray):
    ctx, sound, icon, lister, clock, posted = tray
    ctx.config_path.write_text('[capture]\nfps = "fast"\n')
    told = []
    ctx.notify_error = lambda title, body, **kw: told.append((title, body))
    listed(sound, icon)
    click(by_text(submenu(icon))["System sound"], posted)
    assert ctx.config_path.read_text() == '[capture]\nfps = "fast"\n'
    assert told and told[0][0] == "Sound setting not saved" and "capture.fps" in told[0][1]
    assert ctx.settings.capture.audio == "auto"


def test_check_items_become_pystray_check_and_radio_items():
    from tray.ui.tray_icon import MenuEntry

    class Pystray:
        class Menu:
            SEPARATOR = "-"

            def __init__(self, *items):
                self.items = items

        class MenuItem:
            def __init__(self, text, action, checked=None, radio=False, enabled=True, default=False):
                self.text, self.checked, self.radio, self.enabled = text, checked, radio, enabled

    icon = TrayIcon(object(), lambda fn: None)
    items = icon._pystray_items(Pystray, [MenuEntry("Microphone", lambda: None, checked=True),
                                          MenuEntry("Desk Mic", lambda: None, checked=False, radio=True),
                                          MenuEntry("Quit", lambda: None)])
    assert [(i.text, i.checked and i.checked(i), i.radio) for i in items] == [
        ("Microphone", True, False), ("Desk Mic", False, True), ("Quit", None, False)]
