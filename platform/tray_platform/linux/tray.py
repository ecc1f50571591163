"""Linux tray adapter: pystray with the ``gtk`` backend (Gtk.StatusIcon over XEmbed; the xorg backend has no
menu and ignores clicks), run in a daemon thread (``run_detached`` hangs on exit under xorg), plus a check for a
system tray host (an X client owning ``_NET_SYSTEM_TRAY_S<screen>``).

One icon per process: GTK is initialised on the first tray thread, and a second ``Gtk.main`` on another thread
after ``stop()`` does not get events -- restart the process instead of the icon.

Threading: ``start`` spawns the GTK main loop thread ``snaplark-tray``; pystray marshals icon/title/menu updates
onto that loop, so the setters on the icon may be called from any thread.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

HAS_MENU = True
HAS_DEFAULT_ACTION = True  # left click activates the default menu item
RUNS_ON_MAIN_THREAD = False


def _wayland() -> bool:
    from tray_platform.linux.session import is_wayland

    return is_wayland()


def import_pystray(prgname: str = "snaplark") -> Any:
    if _wayland():  # no XEmbed tray on Wayland: a StatusNotifierItem (linux/wayland_tray.py)
        from tray_platform.linux.wayland_tray import prepare_pystray_env

        prepare_pystray_env()
    os.environ.setdefault("PYSTRAY_BACKEND", "gtk")
    os.environ.setdefault("NO_AT_BRIDGE", "1")  # no accessibility bus (would autolaunch D-Bus helpers)
    # The icon is a pixbuf in an XEmbed socket: it never needs OpenGL. Without this GDK probes GLX for its visuals,
    # which loads Mesa (llvmpipe: libLLVM, ~54 MiB resident on a machine without a GPU driver) into the tray process.
    os.environ.setdefault("GDK_GL", "disable")
    try:
        from gi.repository import GLib

        # Before GTK initialises: names the icon window's WM_CLASS (tray hosts / tests find it as "snaplark").
        if GLib.get_prgname() != prgname:
            GLib.set_prgname(prgname)
            GLib.set_application_name("Snaplark")
    except Exception:  # noqa: BLE001 - cosmetic
        log.debug("could not set the program name", exc_info=True)
    import pystray

    return pystray


class _NoNotifications:
    """Stands in for pystray's own D-Bus notifier, which Snaplark never uses (see make_icon)."""

    def notify(self, *args: Any) -> None:
        return None

    def hide(self) -> None:
        return None


def make_icon(pystray: Any, *args: Any, **kwargs: Any) -> Any:
    """pystray.Icon for the gtk backend without pystray's notification proxy.

    pystray's GTK backend builds a Gio.DBusProxy to org.freedesktop.Notifications inside ``run()``; when the
    service is missing or its activation fails that raises GLib.Error and the tray icon never appears (and when
    activation works it launches the notification daemon as a side effect). Snaplark notifies through
    tray_platform.linux.notify, so the icon skips that step.
    """
    base = pystray.Icon
    if not base.__module__.endswith(("_gtk", "_appindicator")):  # both build the notifier in GtkIcon._initialize
        return base(*args, **kwargs)

    class SnaplarkGtkIcon(base):  # type: ignore[misc, valid-type]
        def _initialize(self) -> None:
            import signal

            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
            except ValueError:  # not the main thread
                pass
            self._notifier = _NoNotifications()
            self._mark_ready()

    return SnaplarkGtkIcon(*args, **kwargs)


def can_wait_for_host() -> bool:
    """With an X display the GTK status icon embeds itself whenever a tray host appears later. On Wayland the
    icon is created only when a StatusNotifierWatcher is there."""
    return bool(os.environ.get("DISPLAY")) and not _wayland()


def tray_host_available(display: str | None = None) -> tuple[bool, str]:
    """(available, reason). Checks the XEmbed tray selection; works for trayer, stalonetray, xfce4-panel, ...
    In a Wayland session: a StatusNotifierWatcher with a host on the session bus instead."""
    if _wayland() and display is None:
        from tray_platform.linux.wayland_tray import watcher_status

        return watcher_status()
    if not (display or os.environ.get("DISPLAY")):
        return False, "no X display (DISPLAY is not set); Wayland-only sessions have no XEmbed tray"
    try:
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError
    except ImportError as exc:
        return True, f"cannot check for a tray host ({exc}); assuming one"
    try:
        d = xdisplay.Display(display)
    except (DisplayError, Exception) as exc:  # noqa: BLE001
        return False, f"cannot open X display: {exc}"
    try:
        screen = d.get_default_screen()
        owner = d.get_selection_owner(d.intern_atom(f"_NET_SYSTEM_TRAY_S{screen}"))
        if owner == 0 or owner is None or getattr(owner, "id", owner) == 0:
            return False, ("no system tray host is running (nothing owns _NET_SYSTEM_TRAY_S0); "
                           "use the global hotkeys, or install a tray (e.g. the GNOME AppIndicator extension)")
        return True, "tray host present"
    finally:
        d.close()


def start(icon: Any, *, on_exit: Callable[[BaseException | None], None] | None = None) -> threading.Thread:
    def target() -> None:
        error = None
        try:
            icon.run()
        except BaseException as exc:  # noqa: BLE001 - reported to the owner
            error = exc
            log.exception("tray icon loop failed")
        if on_exit:
            on_exit(error)

    thread = threading.Thread(target=target, name="snaplark-tray", daemon=True)
    thread.start()
    return thread


def stop(icon: Any, thread: threading.Thread | None, timeout: float = 5.0) -> None:
    try:
        icon.stop()
    except Exception:  # noqa: BLE001
        log.debug("icon.stop failed", exc_info=True)
    if thread is not None:
        thread.join(timeout=timeout)
