"""Global hotkeys in Wayland sessions.

A Wayland client cannot grab keys: pynput's XRecord listener hears only keys typed into XWayland windows. The
standard way is ``org.freedesktop.portal.GlobalShortcuts`` (portal interface version 1, xdg-desktop-portal >= 1.17,
backends: KDE Plasma >= 5.27, GNOME >= 48, Hyprland's portal). xdg-desktop-portal-wlr (sway, river, Wayfire) has
none. :func:`session_warning` says at start which case applies:

- the portal offers GlobalShortcuts: Snaplark does not bind through it yet; the user is told so, the tray menu
  works, and the desktop's own shortcut settings can run the command below;
- it does not: the message names the command to bind in the compositor.

The command is ``snaplark send <command>`` (``tray/commands/send.py``): it reaches the running tray app through the
single-instance socket (``tray/ui/single_instance.py``) and runs there like the tray menu item: ``capture-region``,
``capture-screen``, ``record-region``, ``record-screen``, ``stop-recording``, ``toggle-pause``. Without the tray
app, ``snaplark shot --region --upload --copy`` captures once on its own.

Threading: each call opens its own short-lived bus connection; any thread.
"""

from __future__ import annotations

GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
BIND_COMMAND = "snaplark send capture-region"
RECORD_COMMAND = "snaplark send record-region"
STANDALONE_COMMAND = "snaplark shot --region --upload --copy"
SWAY_EXAMPLE = f"bindsym Print exec {BIND_COMMAND}"


def global_shortcuts_version(bus: str = "SESSION") -> int | None:
    from tray_platform.linux.portal import PortalConnection, PortalError

    try:
        with PortalConnection(bus=bus) as portal:
            return portal.version(GLOBAL_SHORTCUTS)
    except PortalError:
        return None


def session_warning(bus: str = "SESSION") -> str:
    version = global_shortcuts_version(bus)
    if version is not None:
        return (f"this is a Wayland session: the desktop portal offers GlobalShortcuts (version {version}), which "
                "Snaplark does not use yet. Use the tray menu, or bind a key in your desktop's keyboard settings to "
                f"`{BIND_COMMAND}` (and `{RECORD_COMMAND}`, `snaplark send stop-recording` ...) or `{STANDALONE_COMMAND}`.")
    return ("this is a Wayland session and its desktop portal has no GlobalShortcuts interface, so Snaplark cannot "
            "register global hotkeys. Use the tray menu, or bind a key in your compositor to "
            f"`{BIND_COMMAND}` (also `{RECORD_COMMAND}`, `snaplark send stop-recording` ...), e.g. in sway's "
            f"config: `{SWAY_EXAMPLE}`; or to `{STANDALONE_COMMAND}` (a one-off capture without the tray app).")
