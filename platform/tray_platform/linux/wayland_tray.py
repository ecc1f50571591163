"""Tray icon in Wayland sessions: a StatusNotifierItem (SNI) through pystray's ``appindicator`` backend (libayatana-
appindicator: the item and its com.canonical.dbusmenu menu over D-Bus), when the session bus has a
``org.kde.StatusNotifierWatcher`` with a host registered. Wayland has no XEmbed tray, so without a watcher there
is no icon at all: KDE Plasma, swaybar (``tray_output``), waybar's tray module, Hyprland with waybar, and GNOME
*with* the AppIndicator/KStatusNotifierItem extension have one; stock GNOME does not.

:func:`watcher_status` asks the bus (jeepney, bounded): does anyone own the watcher name, and does it say a host is
registered. :func:`registered_items` lists the items the watcher knows (the tests check that ours registered).

Threading: every function opens its own short-lived bus connection; any thread.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
NO_WATCHER = ("this Wayland session has no StatusNotifierItem tray (no org.kde.StatusNotifierWatcher on the session "
              "bus); on GNOME install the 'AppIndicator and KStatusNotifierItem Support' extension, on sway enable "
              "swaybar's tray (tray_output) or waybar's tray module")


def _get(portal: Any, prop: str) -> Any:
    from tray_platform.linux.portal import unwrap

    return unwrap(portal.call("org.freedesktop.DBus.Properties", "Get", "ss", (WATCHER, prop), path=WATCHER_PATH,
                              bus_name=WATCHER, timeout=2.0)[0])


def watcher_status(bus: str = "SESSION") -> tuple[bool, str]:
    """(available, reason)."""
    from tray_platform.linux.portal import PortalConnection, PortalError

    try:
        with PortalConnection(bus=bus) as conn:
            owner = conn.call("org.freedesktop.DBus", "NameHasOwner", "s", (WATCHER,), path="/org/freedesktop/DBus",
                              bus_name="org.freedesktop.DBus", timeout=2.0)[0]
            if not owner:
                return False, NO_WATCHER
            try:
                host = bool(_get(conn, "IsStatusNotifierHostRegistered"))
            except PortalError as exc:
                log.debug("watcher without IsStatusNotifierHostRegistered: %s", exc)
                host = True
    except PortalError as exc:
        return False, f"cannot look for a StatusNotifierItem tray: {exc}"
    if not host:
        return False, "a StatusNotifierWatcher runs but no tray host has registered with it (no panel shows items)"
    return True, "StatusNotifierItem tray present"


def registered_items(bus: str = "SESSION") -> list[str]:
    from tray_platform.linux.portal import PortalConnection

    with PortalConnection(bus=bus) as conn:
        return [str(i) for i in _get(conn, "RegisteredStatusNotifierItems")]


def prepare_pystray_env() -> None:
    """pystray's backend for Wayland: appindicator (SNI), GTK on the Wayland display."""
    os.environ.setdefault("PYSTRAY_BACKEND", "appindicator")
    os.environ.setdefault("GDK_BACKEND", "wayland")
