"""Window picking in the region selector (issue 19, ShareX-style): while nothing is selected the top-level window
under the cursor is outlined; a click on it (no drag) or W takes it at once. The window list is the real one of the
X display (tray_platform.linux.window_info; here without a window manager: QueryTree order), the pointer and keys
are real (xdotool). With a window manager and frames: tests/e2e/capture/test_window_capture.py."""

from __future__ import annotations

import pytest

from tray.capture.screenshot import capture_image
from tray.ui.selector import ACCENT, RegionSelector, crop_to_region
from tray_platform.base import Region

from .conftest import grab_root, pump, screenshot, xdotool

pytestmark = pytest.mark.e2e


def _toplevel(root, colour: str, geometry: str):
    import tkinter as tk

    top = tk.Toplevel(root, background=colour)
    top.title(f"snaplark test {colour}")
    top.geometry(geometry)
    pump(root, lambda: top.winfo_viewable(), timeout=5)
    return top


@pytest.fixture
def two_windows(tk_root):
    """A red 300x200 window at (100,100) under a blue 240x160 one at (300,220) (overlapping, no window manager)."""
    red = _toplevel(tk_root, "#d01010", "300x200+100+100")
    blue = _toplevel(tk_root, "#1030d0", "240x160+300+220")
    blue.lift()
    pump(tk_root, timeout=0.3)
    yield red, blue
    red.destroy()
    blue.destroy()


def _open_selector(tk_root, done, **kw):
    from tray_platform.linux.window_info import X11WindowInfo

    windows = X11WindowInfo().windows()
    frozen = capture_image(None)
    sel = RegionSelector(tk_root, frozen, (0, 0), done.append, windows=windows, **kw)
    assert pump(tk_root, lambda: sel.window.winfo_viewable(), timeout=5)
    return sel, frozen, windows


def test_window_list_is_the_real_stacking(tk_root, two_windows):
    from tray_platform.linux.window_info import X11WindowInfo

    red, blue = two_windows
    names = {"snaplark test #d01010": "red", "snaplark test #1030d0": "blue"}
    ours = [w for w in X11WindowInfo().windows() if w.title in names]
    assert [names[w.title] for w in ours] == ["blue", "red"]  # topmost first
    assert [w.content for w in ours] == [Region(300, 220, 240, 160), Region(100, 100, 300, 200)]
    assert all(w.frame == w.content for w in ours)  # no window manager: no frame


def test_hover_outlines_and_click_takes_the_window_on_top(tk_root, two_windows):
    done: list = []
    sel, frozen, _ = _open_selector(tk_root, done)
    try:
        xdotool(tk_root, "mousemove", "350", "250")  # where blue lies over red
        pump(tk_root, timeout=0.1)
        assert sel.canvas.coords(sel._window_outline) == [301.0, 221.0, 539.0, 379.0]
        assert sel.canvas.itemcget(sel._window_outline, "state") == "normal"
        assert sel.canvas.itemcget(sel._readout, "text").startswith("240 \u00d7 160")
        shown = grab_root()
        assert ACCENT.lower() in {"#%02x%02x%02x" % shown.getpixel((x, 221)) for x in range(301, 340)}
        assert shown.getpixel((520, 240)) == (0x10, 0x30, 0xd0)  # the window to take is shown bright
        assert shown.getpixel((150, 150)) != (0xd0, 0x10, 0x10)  # the rest dimmed
        screenshot("selector-window-hover")
        xdotool(tk_root, "click", "1")
        assert pump(tk_root, lambda: done, timeout=5)
    finally:
        sel.cancel()
    assert done == [Region(300, 220, 240, 160)]
    image = crop_to_region(frozen, done[0], (0, 0))
    assert image.getcolors() == [(240 * 160, (0x10, 0x30, 0xd0))]  # exactly the blue window's pixels


def test_w_takes_the_window_under_the_cursor_and_a_drag_still_selects_a_region(tk_root, two_windows):
    done: list = []
    sel, _, _ = _open_selector(tk_root, done)
    try:
        xdotool(tk_root, "mousemove", "150", "150", "key", "w")  # red, where blue does not cover it
        assert pump(tk_root, lambda: done, timeout=5)
    finally:
        sel.cancel()
    assert done == [Region(100, 100, 300, 200)]

    done.clear()
    sel, _, _ = _open_selector(tk_root, done)
    try:  # a drag that starts on a window is a region, as before
        xdotool(tk_root, "mousemove", "320", "240", "mousedown", "1", "mousemove", "360", "270", "mousemove", "380",
                "290", "mouseup", "1")
        pump(tk_root, timeout=0.1)
        assert not done and sel.canvas.itemcget(sel._window_outline, "state") == "hidden"
        xdotool(tk_root, "key", "Return")
        assert pump(tk_root, lambda: done, timeout=5)
    finally:
        sel.cancel()
    assert done == [Region(320, 240, 60, 50)]


def test_w_says_why_when_there_is_no_window(tk_root, two_windows):
    done: list = []
    sel, _, _ = _open_selector(tk_root, done)
    try:
        xdotool(tk_root, "mousemove", "1200", "650", "key", "w")  # the bare root window
        pump(tk_root, timeout=0.1)
        assert sel.canvas.itemcget(sel._hint, "text") == "No window under the cursor" and not done
    finally:
        sel.cancel()
    done.clear()
    sel = RegionSelector(tk_root, grab_root(), (0, 0), done.append, windows=[],
                         windows_problem="window capture is not available on Wayland: ...")
    assert pump(tk_root, lambda: sel.window.winfo_viewable(), timeout=5)
    try:
        xdotool(tk_root, "mousemove", "150", "150", "key", "w")
        pump(tk_root, timeout=0.1)
        assert sel.canvas.itemcget(sel._hint, "text").startswith("window capture is not available on Wayland")
        assert not done
    finally:
        sel.cancel()


def test_tray_capture_active_window_opens_the_annotator_with_its_pixels(tk_root, two_windows, tmp_path,
                                                                          monkeypatch):
    """The tray's "Capture active window" / hotkeys.capture_window (CaptureFlow): the focused window's pixels
    into the annotator; on Wayland the reason is told instead."""
    from tray import config
    from tray.ui.capture_flow import CaptureFlow
    from tray.ui.context import TrayContext

    monkeypatch.setenv("SNAPLARK_DATA_DIR", str(tmp_path / "data"))
    red, _ = two_windows
    red.focus_force()
    pump(tk_root, timeout=0.2)
    ctx = TrayContext(config.Settings())
    ctx.root = tk_root
    errors: list = []
    monkeypatch.setattr(ctx, "notify_error", lambda title, body: errors.append((title, body)))
    flow = CaptureFlow(ctx, recent=None)
    flow.capture_active_window()
    assert not errors and flow.annotator is not None
    image = flow.annotator.document.base.convert("RGB")
    # red is partly under blue: the window as shown on screen
    assert image.size == (300, 200)
    assert image.getpixel((10, 10)) == (0xd0, 0x10, 0x10) and image.getpixel((250, 150)) == (0x10, 0x30, 0xd0)
    flow.annotator.close()

    monkeypatch.setenv("SNAPLARK_SESSION", "wayland")
    flow.capture_active_window()
    assert errors and errors[0][0] == "Window capture failed"
    assert "window capture is not available on Wayland" in errors[0][1]
