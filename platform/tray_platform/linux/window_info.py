"""Linux top-level windows for window capture: X11 through python-xlib (EWMH), Wayland refused clearly.

With a window manager (``_NET_SUPPORTING_WM_CHECK``) the windows are its clients in ``_NET_CLIENT_LIST_STACKING``
order; each one's content is the client window's own rectangle (``TranslateCoords`` to the root) and its frame adds
``_NET_FRAME_EXTENTS`` (the title bar and borders a reparenting window manager such as openbox draws). A GTK
window with client-side decorations declares its invisible shadow in ``_GTK_FRAME_EXTENTS``; that margin is left
out of both rectangles. Without a window manager (Xvfb in tests, a bare X server) the viewable children of the root
window in ``QueryTree`` order stand in, with frame = content; override-redirect ones (menus, tooltips, overlays)
are left out, as a window manager's list has none. Desktop windows (``_NET_WM_WINDOW_TYPE_DESKTOP``, the wallpaper
some file managers draw) are not offered.

Xlib is imported lazily (``tray`` must import with no display); every call opens its own connection and closes it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from tray_platform.base import NoDisplayError, Region, TopWindow, WindowCaptureUnsupported

WAYLAND_MESSAGE = (
    "window capture is not available on Wayland: the desktop portal's Screenshot gives no window list or window "
    "geometry to an application (by design). Select the window's area with the region selector instead, or use "
    "your desktop's own window screenshot (e.g. GNOME: Alt+Print)")


class X11WindowInfo:
    """Top-level windows of one X display (see the module docstring). Thread-safety: one instance per thread."""

    def __init__(self, *, display: str | None = None):
        self._display_name = display

    # -- public -----------------------------------------------------------------------------------------------
    def windows(self) -> list[TopWindow]:
        d = self._open()
        try:
            return self._windows(d)
        finally:
            d.close()

    def active_window(self) -> TopWindow | None:
        d = self._open()
        try:
            root = d.screen().root
            wid = 0
            if self._has_wm(d):
                prop = root.get_full_property(d.intern_atom("_NET_ACTIVE_WINDOW"), 0)
                wid = int(prop.value[0]) if prop is not None and len(prop.value) else 0
            if not wid:
                wid = self._focus_toplevel(d)
            return self._describe(d, wid) if wid else None
        finally:
            d.close()

    def activate(self, window_id: int, timeout: float = 2.0) -> bool:
        """Raise and focus ``window_id`` (through the window manager when there is one, as a pager would: source
        indication 2, which focus-stealing prevention lets through); True once it is the topmost window."""
        from Xlib import X, protocol

        d = self._open()
        try:
            root = d.screen().root
            window = d.create_resource_object("window", window_id)
            if self._has_wm(d):
                event = protocol.event.ClientMessage(window=window, client_type=d.intern_atom("_NET_ACTIVE_WINDOW"),
                                                     data=(32, [2, X.CurrentTime, 0, 0, 0]))
                root.send_event(event, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
            else:
                window.configure(stack_mode=X.Above)
            d.sync()
            deadline = time.monotonic() + timeout
            while True:
                top = self._windows(d)
                if top and top[0].id == window_id:
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.02)
        finally:
            d.close()

    # -- internals --------------------------------------------------------------------------------------------
    def _open(self) -> Any:
        name = self._display_name or os.environ.get("DISPLAY")
        if not name:
            raise NoDisplayError("no X display to list windows on: DISPLAY is not set")
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError

        try:
            return xdisplay.Display(name)
        except (DisplayError, OSError) as exc:
            raise NoDisplayError(f"cannot open X display {name!r}: {exc}") from exc

    @staticmethod
    def _has_wm(d: Any) -> bool:
        prop = d.screen().root.get_full_property(d.intern_atom("_NET_SUPPORTING_WM_CHECK"), 0)
        return prop is not None and len(prop.value) > 0 and int(prop.value[0]) != 0

    def _windows(self, d: Any) -> list[TopWindow]:
        root = d.screen().root
        ids: list[int] = []
        if self._has_wm(d):
            prop = root.get_full_property(d.intern_atom("_NET_CLIENT_LIST_STACKING"), 0)
            ids = [int(v) for v in prop.value] if prop is not None else []
        if not ids:
            ids = [w.id for w in root.query_tree().children]
        out = []
        for wid in reversed(ids):  # the protocols list bottom to top
            described = self._describe(d, wid, viewable_only=True)
            if described is not None:
                out.append(described)
        return out

    def _describe(self, d: Any, wid: int, *, viewable_only: bool = False) -> TopWindow | None:
        from Xlib import X
        from Xlib.error import XError

        root = d.screen().root
        window = d.create_resource_object("window", wid)
        try:
            if viewable_only:
                attributes = window.get_attributes()
                # override-redirect windows (menus, tooltips, overlays such as the region selector itself, which
                # reads this list while it is shown) are not in a window manager's client list either
                if attributes.map_state != X.IsViewable or attributes.override_redirect:
                    return None
            if self._is_desktop(d, window):
                return None
            geometry = window.get_geometry()
            origin = root.translate_coords(window, 0, 0)
            gtk = _cardinals(window, d.intern_atom("_GTK_FRAME_EXTENTS"), 4) or (0, 0, 0, 0)
            wm = _cardinals(window, d.intern_atom("_NET_FRAME_EXTENTS"), 4) or (0, 0, 0, 0)
            title = self._title(d, window)
        except XError:  # the window went away meanwhile
            return None
        gl, gr, gt, gb = gtk
        content = Region(origin.x + gl, origin.y + gt, geometry.width - gl - gr, geometry.height - gt - gb)
        if content.width <= 0 or content.height <= 0:
            return None
        fl, fr, ft, fb = wm
        frame = Region(content.left - fl, content.top - ft, content.width + fl + fr, content.height + ft + fb)
        return TopWindow(id=wid, title=title, content=content, frame=frame)

    @staticmethod
    def _is_desktop(d: Any, window: Any) -> bool:
        prop = window.get_full_property(d.intern_atom("_NET_WM_WINDOW_TYPE"), 0)
        return prop is not None and d.intern_atom("_NET_WM_WINDOW_TYPE_DESKTOP") in [int(v) for v in prop.value]

    @staticmethod
    def _title(d: Any, window: Any) -> str:
        prop = window.get_full_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"))
        if prop is not None and prop.value:
            value = prop.value
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        name = window.get_wm_name()
        if isinstance(name, bytes):
            return name.decode("latin-1")
        return name or ""

    @staticmethod
    def _focus_toplevel(d: Any) -> int:
        """Without a window manager: the child of the root that holds the input focus (0 when none)."""
        focus = d.get_input_focus().focus
        if isinstance(focus, int) or focus is None:  # None / PointerRoot
            return 0
        root_id = d.screen().root.id
        window = focus
        for _ in range(64):
            tree = window.query_tree()
            if tree.parent is None or int(tree.parent.id) in (0, root_id):
                return int(window.id) if int(window.id) != root_id else 0
            window = tree.parent
        return 0


def _cardinals(window: Any, atom: int, count: int) -> tuple[int, ...] | None:
    prop = window.get_full_property(atom, 0)
    if prop is None or len(prop.value) < count:
        return None
    return tuple(int(v) for v in prop.value[:count])


class WaylandWindowInfo:
    """Wayland: every call says why window capture is not available (the caller shows the message)."""

    def windows(self) -> list[TopWindow]:
        raise WindowCaptureUnsupported(WAYLAND_MESSAGE)

    def active_window(self) -> TopWindow | None:
        raise WindowCaptureUnsupported(WAYLAND_MESSAGE)

    def activate(self, window_id: int, timeout: float = 2.0) -> bool:
        raise WindowCaptureUnsupported(WAYLAND_MESSAGE)


def create(**kwargs: Any) -> Any:
    from tray_platform.linux.session import is_wayland

    if is_wayland():
        return WaylandWindowInfo()
    return X11WindowInfo(**kwargs)
