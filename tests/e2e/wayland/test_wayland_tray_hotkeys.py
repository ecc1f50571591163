"""The tray icon as a StatusNotifierItem that registers with swaybar's watcher; the clear message without a
watcher; and what the hotkeys say on a portal without GlobalShortcuts (xdg-desktop-portal-wlr has none)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.procutil import die_with_parent, need_tool, stop_process, wait_until

pytestmark = pytest.mark.e2e


def app_env(session, **extra: str) -> dict[str, str]:
    """The session's environment as a freshly started app sees it: without the PYSTRAY_BACKEND=gtk that the X11
    tray adapter sets in this test process (os.environ.setdefault) once an X11 tray test ran before."""
    env = {k: v for k, v in session.env.items() if k != "PYSTRAY_BACKEND"}
    env.update(extra)
    return env


def test_tray_icon_registers_with_swaybars_watcher(wayland_session):
    from tray_platform.linux.wayland_tray import registered_items, watcher_status

    wait_until(lambda: watcher_status()[0], 10, what="swaybar's StatusNotifierWatcher with a host")
    before = registered_items()
    child = subprocess.Popen([sys.executable, "-m", "tests.e2e.wayland.sni_tray_child"],
                             env=app_env(wayland_session, SNAPLARK_SESSION="wayland"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
    try:
        line = child.stdout.readline().strip()
        assert line == "started pystray._appindicator", (line, child.stderr.read() if child.poll() is not None
                                                          else "")
        items = wait_until(lambda: [i for i in registered_items() if i not in before], 10,
                           what="our item in RegisteredStatusNotifierItems")
        assert len(items) == 1, items
        child.stdin.close()
        child.wait(10)
        wait_until(lambda: not [i for i in registered_items() if i not in before], 10,
                   what="the item to leave the watcher when the app stops")
    finally:
        stop_process(child)
        wayland_session.check_alive()


def test_no_watcher_is_a_clear_message(wayland_session):
    from tray_platform.linux.wayland_tray import NO_WATCHER, watcher_status

    need_tool("dbus-daemon")
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, preexec_fn=die_with_parent)
    try:
        address = bus.stdout.readline().strip()
        assert watcher_status(address) == (False, NO_WATCHER)
        child = subprocess.run([sys.executable, "-m", "tests.e2e.wayland.sni_tray_child"],
                               env=app_env(wayland_session, DBUS_SESSION_BUS_ADDRESS=address,
                                           SNAPLARK_SESSION="wayland"),
                               input="", capture_output=True, text=True, timeout=30)
        assert child.stdout.strip() == f"unavailable {NO_WATCHER}", child.stderr
        assert "AppIndicator" in NO_WATCHER and "swaybar" in NO_WATCHER
    finally:
        stop_process(bus)


def test_hotkeys_say_at_start_that_the_portal_has_no_global_shortcuts(wayland_session):
    from tray.ui.hotkeys import GlobalHotkeys
    from tray_platform.linux.portal import PortalConnection
    from tray_platform.linux.wayland_hotkeys import SWAY_EXAMPLE, global_shortcuts_version

    with PortalConnection() as portal:
        offered = portal.interfaces()
    assert "org.freedesktop.portal.ScreenCast" in offered  # the portal answers...
    assert "org.freedesktop.portal.GlobalShortcuts" not in offered  # ...but wlr has no GlobalShortcuts
    assert global_shortcuts_version() is None
    told = []
    hotkeys = GlobalHotkeys({"capture_region": ("<ctrl>+<alt>+s", lambda: None)}, post=lambda f: None,
                            on_problem=told.append, os_name="linux", check_grabs=False)
    try:
        hotkeys.start()
    finally:
        hotkeys.stop()
    messages = [p.message for p in told]
    wayland = [m for m in messages if "GlobalShortcuts" in m]
    assert len(wayland) == 1, messages
    assert SWAY_EXAMPLE in wayland[0] and "tray menu" in wayland[0]
