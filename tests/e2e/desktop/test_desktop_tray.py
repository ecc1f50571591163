"""Tray icon in a real XEmbed tray host (trayer) under Xvfb: icon embedded, left click = capture region,
right click opens the menu (screenshot kept in test-artifacts/desktop/), items activated by keyboard and mouse."""

from __future__ import annotations

import io
import queue
import re
import subprocess
import time

import pytest

from desktop_helpers import wait_until
from tray.ui.tray_icon import RecentUpload, TrayIcon, TrayState
from tray.upload.state import UploadState

pytestmark = pytest.mark.e2e


class RecordingCommands:
    """TrayCommands whose methods record their name; runs only when the posted callable is run."""

    def __init__(self):
        self.ran = []

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self.ran.append((name, *args))


def sh(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=10).stdout


def visible_windows() -> list[int]:
    return [int(w) for w in sh("xdotool", "search", "--onlyvisible", "--classname", "snaplark").split()]


def geometry(wid: int) -> dict[str, int]:
    info = sh("xwininfo", "-id", str(wid))
    get = lambda label: int(re.search(rf"{label}:\s+(-?\d+)", info).group(1))  # noqa: E731
    return {"x": get("Absolute upper-left X"), "y": get("Absolute upper-left Y"), "w": get("Width"),
            "h": get("Height"), "override": "Override Redirect State: yes" in info}


def embedded_icon() -> int | None:
    """The icon window, once trayer has embedded it (not override-redirect, tray-sized)."""
    for wid in visible_windows():
        g = geometry(wid)
        if not g["override"] and g["w"] >= 16 and g["h"] >= 16:
            return wid
    return None


def open_menu_windows() -> list[int]:
    return [w for w in visible_windows() if geometry(w)["override"]]


@pytest.fixture(scope="module")
def module_tray(tray_host, desktop_bus):
    """One icon for the module: GTK runs on the first tray thread; a process shows one icon in its life."""
    posted: queue.Queue = queue.Queue()
    commands = RecordingCommands()
    told = []
    icon = TrayIcon(commands, posted.put, capture_hotkey="Ctrl+Alt+S", on_unavailable=told.append)
    assert icon.start() is True, icon.unavailable_reason
    wid = wait_until(embedded_icon, 10, what="tray icon embedded in trayer")
    yield icon, wid, posted, commands, told
    icon.stop()


@pytest.fixture
def running_tray(module_tray):
    icon, wid, posted, commands, told = module_tray
    commands.ran.clear()
    while not posted.empty():
        posted.get_nowait()
    icon.set_state(TrayState.IDLE)
    icon.set_recording(False)
    yield module_tray
    subprocess.run(["xdotool", "key", "Escape"], timeout=10)  # close a menu left open by a failed test


def run_next(posted: queue.Queue) -> None:
    posted.get(timeout=5)()


def test_icon_is_embedded_in_trayer(running_tray):
    icon, wid, _, _, told = running_tray
    tree = sh("xwininfo", "-root", "-tree")
    # the icon window is a descendant of trayer's "panel" window
    panel = re.search(r"^\s+(0x[0-9a-f]+) \"panel\": \(\"panel\" \"trayer\"\)", tree, re.M)
    assert panel, tree
    children = sh("xwininfo", "-id", panel.group(1), "-tree")
    assert hex(wid) in children
    assert told == [] and icon.available is True


def test_left_click_posts_capture_region(running_tray):
    icon, wid, posted, commands, _ = running_tray
    subprocess.run(["xdotool", "mousemove", "--window", str(wid), "8", "8", "click", "1"], check=True, timeout=10)
    run_next(posted)
    assert commands.ran == [("capture_region",)]


def test_menu_screenshot_keyboard_and_mouse_activation(running_tray, artifacts_dir):
    icon, wid, posted, commands, _ = running_tray
    icon.set_recent([RecentUpload("Screenshot 10:01", "http://127.0.0.1:8765/s/one"),
                     RecentUpload("Recording 10:05", "http://127.0.0.1:8765/v/two")])
    icon.set_state(TrayState.UPLOADING, percent=42)
    assert icon.tooltip() == "Snaplark — Uploading 42%"

    def open_menu() -> int:
        subprocess.run(["xdotool", "mousemove", "--window", str(wid), "8", "8", "click", "3"], check=True,
                       timeout=10)
        return wait_until(lambda: (open_menu_windows() or [None])[0], 5, what="tray menu")

    # keyboard: Record region is the 3rd item (Down x3 from nothing selected), Return activates it
    open_menu()
    subprocess.run(["xdotool", "key", "Down", "Down", "Down", "Return"], check=True, timeout=10)
    run_next(posted)
    assert commands.ran[-1] == ("record_region",)
    wait_until(lambda: not open_menu_windows(), 5, what="menu closed")

    # Recent uploads submenu: disabled Stop/Pause are skipped; 2nd entry copies its link
    open_menu()
    subprocess.run(["xdotool", "key", "Down", "Down", "Down", "Down", "Down", "Right"], check=True, timeout=10)
    wait_until(lambda: len(open_menu_windows()) >= 2, 5, what="recent uploads submenu")
    shot = artifacts_dir / "tray-menu.png"
    subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=20)
    subprocess.run(["xdotool", "key", "Down", "Return"], check=True, timeout=10)
    run_next(posted)
    assert commands.ran[-1] == ("copy_link", "http://127.0.0.1:8765/v/two")
    wait_until(lambda: not open_menu_windows(), 5, what="menu closed")

    # mouse: Quit is the bottom item
    menu = geometry(open_menu())
    subprocess.run(["xdotool", "mousemove", str(menu["x"] + menu["w"] // 2), str(menu["y"] + menu["h"] - 14),
                    "click", "1"], check=True, timeout=10)
    run_next(posted)
    assert commands.ran[-1] == ("quit",)

    from PIL import Image

    with Image.open(shot) as img:
        # the menu and its submenu are drawn (not a blank screen): many distinct colours near the tray corner
        corner = img.crop((img.width - 500, 0, img.width, 340)).convert("RGB")
        assert len(corner.getcolors(1 << 20)) > 20
        corner.save(artifacts_dir / "tray-menu-corner.png")


def test_state_changes_update_picture_and_menu(running_tray):
    icon, wid, posted, commands, _ = running_tray
    icon.set_state(TrayState.RECORDING, elapsed=83)
    icon.set_recording(True)
    assert icon.tooltip() == "Snaplark — Recording 01:23"
    spec = {e.text: e for e in icon.menu_spec()}
    assert spec["Stop recording"].enabled and not spec["Record region"].enabled
    # the embedded icon now shows the red recording badge (sampled from the screen)
    from PIL import Image

    g = geometry(wid)

    def has_red() -> bool:
        data = subprocess.run(["import", "-window", "root", "-crop", f"{g['w']}x{g['h']}+{g['x']}+{g['y']}",
                               "png:-"], capture_output=True, timeout=20).stdout
        with Image.open(io.BytesIO(data)) as img:
            return any(r > 180 and g_ < 80 and b < 120 for r, g_, b in img.convert("RGB").getdata())

    wait_until(has_red, 5, interval=0.2, what="red recording badge on the tray icon")


def test_needs_login_and_offline_pictures_and_log_in_item(running_tray):
    """Issue 12 #10: the engine's AUTH_REQUIRED / PAUSED_OFFLINE as the embedded icon shows them (amber badge; grey
    tile with a dark badge), and the menu's Log in item."""
    icon, wid, posted, commands, _ = running_tray
    from PIL import Image

    g = geometry(wid)

    def pixels() -> list[tuple[int, int, int]]:
        data = subprocess.run(["import", "-window", "root", "-crop", f"{g['w']}x{g['h']}+{g['x']}+{g['y']}",
                               "png:-"], capture_output=True, timeout=20).stdout
        with Image.open(io.BytesIO(data)) as img:
            return list(img.convert("RGB").getdata())

    def amber() -> bool:
        return any(r > 200 and 120 < g_ < 190 and b < 70 for r, g_, b in pixels())

    def grey_tile_no_blue() -> bool:
        px = pixels()
        grey = sum(1 for r, g_, b in px if abs(r - 120) < 20 and abs(g_ - 126) < 20 and abs(b - 136) < 20)
        blue = sum(1 for r, g_, b in px if b > 200 and r < 80 and 80 < g_ < 130)
        return grey > 20 and blue == 0

    try:
        icon.show_upload(UploadState.UPLOADING, online=True, percent=10)
        icon.show_upload(UploadState.AUTH_REQUIRED)
        assert icon.state is TrayState.NEEDS_LOGIN
        wait_until(amber, 5, interval=0.2, what="amber needs-login badge on the tray icon")
        spec = {e.text: e for e in icon.menu_spec()}
        assert "Log in" in spec and "Log out" not in spec
        spec["Log in"].action()
        run_next(posted)
        assert commands.ran[-1] == ("login",)

        icon.set_logged_in(True)
        icon.show_upload(UploadState.PAUSED_OFFLINE, online=False)
        assert icon.state is TrayState.OFFLINE
        wait_until(grey_tile_no_blue, 5, interval=0.2, what="grey offline tile on the tray icon")
        assert "Log out" in {e.text for e in icon.menu_spec()}
    finally:
        icon.set_logged_in(True)
        icon.show_upload(UploadState.COMPLETED, online=True)


def test_sound_submenu_check_items_in_gtk_and_a_click_saves_the_setting(running_tray, artifacts_dir, tmp_path):
    """Issue 14: the Sound submenu's check items as GTK shows them (screenshot tray-sound-menu.png), activated by
    keyboard in the real menu: the setting is saved to the settings file."""
    import tomllib

    from tray import config
    from tray.ui.context import TrayContext
    from tray.ui.sound_menu import SoundMenu
    from tray_platform.base import AudioDevice

    icon, wid, posted, commands, _ = running_tray
    ctx = TrayContext(config.Settings(), config_path=tmp_path / "config.toml")
    ctx.dispatcher = type("Dispatcher", (), {"post": staticmethod(posted.put)})()
    ctx.tray = icon
    sound = SoundMenu(ctx, list_devices=lambda: [AudioDevice("desk", "Desk Mic", "mic", True),
                                                  AudioDevice("usb", "USB Headset", "mic")],
                      on_change=icon.refresh_menu)
    icon.sound_menu = sound.entries
    try:
        sound.refresh()
        assert sound.wait_listed(5)
        icon.refresh_menu()

        def open_sound_submenu() -> bool:
            subprocess.run(["xdotool", "mousemove", "--window", str(wid), "8", "8", "click", "3"], check=True,
                           timeout=10)
            wait_until(lambda: open_menu_windows(), 5, what="tray menu")
            # Down to Sound (GTK skips separators and disabled items), Right opens its submenu: Microphone
            # (checked: auto with a microphone), System sound, Microphone device
            spec = icon.menu_spec()
            at = next(i for i, e in enumerate(spec) if e.text == "Sound")
            downs = sum(1 for e in spec[:at + 1] if e.enabled and not e.separator)
            subprocess.run(["xdotool", "key", *["Down"] * downs, "Right"], check=True, timeout=10)
            try:
                return bool(wait_until(lambda: len(open_menu_windows()) >= 2, 2, what="Sound submenu"))
            except TimeoutError:  # the menu opened before GTK rebuilt it with the Sound item (GTK's idle time)
                subprocess.run(["xdotool", "key", "Escape", "Escape"], timeout=10)
                wait_until(lambda: not open_menu_windows(), 5, what="menu closed")
                return False

        wait_until(open_sound_submenu, 15, interval=0.5, what="the Sound submenu opened")
        time.sleep(0.3)
        subprocess.run(["import", "-window", "root", str(artifacts_dir / "tray-sound-menu.png")], check=True,
                       timeout=20)
        subprocess.run(["xdotool", "key", "Down", "Return"], check=True, timeout=10)
        run_next(posted)
        wait_until(lambda: not open_menu_windows(), 5, what="menu closed")
        saved = tomllib.loads(ctx.config_path.read_text())["capture"]
        assert saved["audio"] == "both" and ctx.settings.capture.audio == "both"
        spec = {e.text: e for e in next(e for e in icon.menu_spec() if e.text == "Sound").submenu}
        assert spec["Microphone"].checked and spec["System sound"].checked
    finally:
        icon.sound_menu = None
        icon.refresh_menu()
