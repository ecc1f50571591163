"""Window capture: which top-level window (by id, by title, the active one, the one under a point) and its
rectangle on the screen, with or without the frame the window manager draws.

The pixels are taken from the screen (like ShareX): the window's rectangle as it is shown, so a window is captured
the way the user sees it (``snaplark shot --window`` brings it to the front first). The window list comes from the
platform's ``window_info`` adapter (X11: ``tray_platform/linux/window_info.py``; Wayland refuses with a reason).

Frame default (``capture.window_frame = true``): with the title bar and borders, as GNOME Screenshot and KDE
Spectacle do by default -- the title tells whoever sees the image which window it is, and windows with client-side
decorations (GTK header bars, browsers) carry their title bar in the content anyway, so "with frame" gives every
kind of window the same look. ``--no-frame`` / ``window_frame = false``: the application's pixels only.
"""

from __future__ import annotations

from typing import Any, Sequence

from tray_platform.base import Region, TopWindow, WindowCaptureUnsupported

from tray.capture.errors import InvalidCaptureTarget

__all__ = ["WindowCaptureUnsupported", "default_window_info", "find_window", "window_at", "window_region"]


def default_window_info() -> Any:
    """The OS's window list adapter; a clear :class:`WindowCaptureUnsupported` where there is none yet."""
    from tray_platform.base import BackendUnavailable, choose_backend, current_os

    try:
        return choose_backend("window_info").backend
    except BackendUnavailable as exc:
        raise WindowCaptureUnsupported(
            f"window capture is not available on {current_os()} yet (X11 only); select the window's area with the "
            f"region selector instead ({exc})") from None


def parse_window_id(spec: str) -> int | None:
    """``"0x3a00007"`` or ``"60817415"`` -> the id; anything else (a title) -> None."""
    text = spec.strip().lower()
    try:
        return int(text, 16) if text.startswith("0x") else int(text, 10)
    except ValueError:
        return None


def find_window(windows: Sequence[TopWindow], spec: str) -> TopWindow:
    """The window ``spec`` names: an X window id (decimal or 0x hex) or a piece of its title (case-insensitive; an
    exact title wins over pieces). No match or several matches raise :class:`InvalidCaptureTarget` naming them."""
    if not spec.strip():
        raise InvalidCaptureTarget("--window needs a window id or a piece of its title, got an empty string")
    wid = parse_window_id(spec)
    if wid is not None:
        for w in windows:
            if w.id == wid:
                return w
        raise InvalidCaptureTarget(f"no visible top-level window has the id {spec} (0x{wid:x}); "
                                   f"visible: {_listing(windows)}")
    wanted = spec.strip().casefold()
    exact = [w for w in windows if w.title.casefold() == wanted]
    if len(exact) == 1:
        return exact[0]
    matches = exact or [w for w in windows if wanted in w.title.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InvalidCaptureTarget(f"no visible window's title contains {spec!r}; visible: {_listing(windows)}")
    raise InvalidCaptureTarget(f"{len(matches)} windows' titles contain {spec!r}: {_listing(matches)}; give more of "
                               "the title or the window id")


def _listing(windows: Sequence[TopWindow], limit: int = 8) -> str:
    if not windows:
        return "none"
    shown = ", ".join(f"0x{w.id:x} {w.title!r}" for w in windows[:limit])
    return shown + (f" and {len(windows) - limit} more" if len(windows) > limit else "")


def window_at(windows: Sequence[TopWindow], x: int, y: int) -> TopWindow | None:
    """The topmost window whose frame contains the virtual-screen point (x, y); ``windows`` topmost first."""
    for w in windows:
        f = w.frame
        if f.left <= x < f.right and f.top <= y < f.bottom:
            return w
    return None


def window_region(window: TopWindow, with_frame: bool, screen: Region) -> Region:
    """The window's rectangle (with or without its frame) clipped to the virtual screen ``screen``; a window
    wholly off the screen raises :class:`InvalidCaptureTarget`."""
    r = window.region(with_frame)
    left, top = max(r.left, screen.left), max(r.top, screen.top)
    right, bottom = min(r.right, screen.right), min(r.bottom, screen.bottom)
    if right <= left or bottom <= top:
        raise InvalidCaptureTarget(f"window 0x{window.id:x} {window.title!r} is off the screen "
                                   f"({r.left},{r.top} {r.width}x{r.height})")
    return Region(left, top, right - left, bottom - top)


def window_target(spec: str | None, *, with_frame: bool, bring_to_front: bool = True, info: Any = None,
                  display_info: Any = None, settle: float = 0.25) -> tuple[Region, TopWindow]:
    """The screen rectangle to grab for the window ``spec`` names (:func:`find_window`), or for the active window
    when ``spec`` is None. A named window that is not on top is raised first (``bring_to_front``) and given
    ``settle`` seconds to repaint what was covered."""
    import time

    info = info if info is not None else default_window_info()
    if spec is None:
        window = info.active_window()
        if window is None:
            raise InvalidCaptureTarget("no window has the input focus: click the window to capture first, or name "
                                       "it with --window ID|TITLE")
    else:
        windows = info.windows()
        window = find_window(windows, spec)
        if bring_to_front and windows[0].id != window.id:
            if info.activate(window.id):
                time.sleep(settle)
                window = next((w for w in info.windows() if w.id == window.id), window)
    if display_info is None:
        from tray.capture.backends import default_display_info

        display_info = default_display_info()
    return window_region(window, with_frame, display_info.virtual_screen()), window
