"""Region selector under Xvfb, driven by real X input events (xdotool)."""

from __future__ import annotations

import pytest
from PIL import Image

from tray.ui.selector import RegionSelector
from tray_platform.base import Monitor, Region

from .conftest import fake_desktop, grab_root, pump, screenshot, xdotool

pytestmark = pytest.mark.e2e


class Done:
    def __init__(self):
        self.calls: list[Region | None] = []

    def __call__(self, region):
        self.calls.append(region)

    @property
    def called(self) -> bool:
        return bool(self.calls)


def open_selector(root, **kwargs):
    done = Done()
    kwargs.setdefault("frozen", fake_desktop())
    sel = RegionSelector(root, kwargs.pop("frozen"), (0, 0), done, **kwargs)
    assert pump(root, lambda: sel.window.winfo_ismapped() and sel.window.winfo_viewable(), timeout=5)
    return sel, done


def test_selector_maps_full_screen_and_drag_returns_exact_region(tk_root):
    sel, done = open_selector(tk_root)
    win = sel.window
    assert (win.winfo_rootx(), win.winfo_rooty(), win.winfo_width(), win.winfo_height()) == (0, 0, 1280, 720)
    # the overlay really is on screen: the X root now shows the dimmed frozen desktop
    xdotool(tk_root, "mousemove", "900", "500")
    screenshot("selector-open")
    shown = grab_root().getpixel((300, 300))
    frozen = sel.frozen.getpixel((300, 300))
    assert shown != frozen and all(abs(s - round(f * 0.45)) <= 3 for s, f in zip(shown, frozen))

    xdotool(tk_root, "mousemove", "100", "120", "mousedown", "1", "mousemove", "180", "170",
            "mousemove", "300", "250", "mouseup", "1")
    assert pump(tk_root, lambda: sel.model.rect == (100, 120, 300, 250), timeout=5), sel.model.rect
    xdotool(tk_root, "mousemove", "420", "330")  # show the magnifier away from the selection
    pump(tk_root, timeout=0.1)
    screen = grab_root()
    screenshot("selector")
    # inside the selection the bright frozen pixels are pasted back, outside it stays dimmed
    assert screen.getpixel((200, 200)) == sel.frozen.getpixel((200, 200))
    assert screen.getpixel((90, 300)) != sel.frozen.getpixel((90, 300))
    assert not done.called  # a drag alone does not confirm

    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: done.called, timeout=5)
    assert done.calls == [Region(100, 120, 200, 130)]
    assert not win.winfo_exists()


def test_escape_cancels_with_none(tk_root):
    sel, done = open_selector(tk_root)
    xdotool(tk_root, "mousemove", "50", "50", "mousedown", "1", "mousemove", "400", "300", "mouseup", "1")
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: done.called, timeout=5)
    assert done.calls == [None]


def test_zero_size_selection_is_refused_with_a_message(tk_root):
    sel, done = open_selector(tk_root)
    xdotool(tk_root, "mousemove", "500", "400", "click", "1")
    xdotool(tk_root, "key", "Return")
    pump(tk_root, timeout=0.2)
    assert not done.called and not sel.finished
    assert "Nothing selected" in sel.canvas.itemcget(sel._hint, "text")
    assert sel.canvas.itemcget(sel._hint, "state") == "normal"
    screenshot("selector-zero-size")
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: done.called, timeout=5)
    assert done.calls == [None]


def test_double_click_inside_confirms_and_drag_inside_moves(tk_root):
    sel, done = open_selector(tk_root)
    xdotool(tk_root, "mousemove", "200", "200", "mousedown", "1", "mousemove", "300", "260", "mouseup", "1")
    # drag from inside the selection moves it by (+50, +40)
    xdotool(tk_root, "mousemove", "250", "230", "mousedown", "1", "mousemove", "280", "250",
            "mousemove", "300", "270", "mouseup", "1")
    assert pump(tk_root, lambda: sel.model.rect == (250, 240, 350, 300), timeout=5), sel.model.rect
    xdotool(tk_root, "mousemove", "300", "270", "click", "--repeat", "2", "--delay", "60", "1")
    assert pump(tk_root, lambda: done.called, timeout=5)
    assert done.calls == [Region(250, 240, 100, 60)]


def test_arrow_keys_nudge_and_shift_resizes(tk_root):
    sel, done = open_selector(tk_root)
    xdotool(tk_root, "mousemove", "100", "100", "mousedown", "1", "mousemove", "200", "150", "mouseup", "1")
    xdotool(tk_root, "key", "Right", "Right", "Down", "shift+Right", "shift+Right", "shift+Right", "shift+Up")
    assert pump(tk_root, lambda: sel.model.rect == (102, 101, 205, 150), timeout=5), sel.model.rect
    xdotool(tk_root, "key", "ctrl+Left")
    assert pump(tk_root, lambda: sel.model.rect == (92, 101, 195, 150), timeout=5), sel.model.rect
    xdotool(tk_root, "key", "KP_Enter")
    assert pump(tk_root, lambda: done.called, timeout=5)
    assert done.calls == [Region(92, 101, 103, 49)]


def test_space_selects_the_monitor_under_the_cursor(tk_root):
    # two side-by-side monitors on the one Xvfb screen
    monitors = [Monitor(0, Region(0, 0, 640, 720), primary=True), Monitor(1, Region(640, 0, 640, 720))]
    sel, done = open_selector(tk_root, monitors=monitors)
    xdotool(tk_root, "mousemove", "900", "300")
    xdotool(tk_root, "key", "space")
    assert pump(tk_root, lambda: done.called, timeout=5)
    assert done.calls == [Region(640, 0, 640, 720)]


def test_hidpi_scale_returns_physical_pixels(tk_root):
    # a 2x display: the frozen screenshot has twice the pixels of the 1280x720 logical overlay
    frozen = fake_desktop(2560, 1440)
    sel, done = open_selector(tk_root, frozen=frozen, scale=2.0,
                              monitors=[Monitor(0, Region(0, 0, 2560, 1440), scale=2.0, primary=True)])
    assert (sel.window.winfo_width(), sel.window.winfo_height()) == (1280, 720)
    xdotool(tk_root, "mousemove", "100", "50", "mousedown", "1", "mousemove", "400", "250", "mouseup", "1")
    assert pump(tk_root, lambda: sel.model.rect == (100, 50, 400, 250), timeout=5)
    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: done.called, timeout=5)
    assert done.calls == [Region(200, 100, 600, 400)]


def test_frozen_screen_from_mss_and_overlay_gone_before_callback(tk_root):
    """Freeze the real X screen (mss), select, and check the callback sees the screen without the overlay."""
    import tkinter as tk

    # something on screen to freeze: a plain window painted a known colour
    bg = tk.Toplevel(tk_root)
    bg.overrideredirect(True)
    bg.geometry("1280x720+0+0")
    tk.Frame(bg, background="#3366cc", width=1280, height=720).pack()
    assert pump(tk_root, lambda: bg.winfo_viewable(), timeout=5)
    pump(tk_root, timeout=0.1)
    frozen = grab_root()
    assert frozen.getpixel((10, 10)) == (0x33, 0x66, 0xcc)

    seen: list[tuple] = []

    def on_done(region):
        seen.append((region, grab_root().getpixel((640, 360))))

    # the pixels are prepared off the Tk thread (as the capture thread would), then the overlay maps
    import threading

    from tray.ui.selector import SelectorImages

    prepared: list = []
    worker = threading.Thread(target=lambda: prepared.append(SelectorImages.prepare(frozen, 1.0)))
    worker.start()
    worker.join(10)
    assert prepared and prepared[0].dimmed.getpixel((10, 10)) == tuple(int(v * 0.45) for v in (0x33, 0x66, 0xcc))
    sel = RegionSelector(tk_root, frozen, (0, 0), on_done, prepared=prepared[0])
    assert pump(tk_root, lambda: sel.window.winfo_viewable(), timeout=5)
    pump(tk_root, timeout=0.1)
    assert grab_root().getpixel((10, 10)) != (0x33, 0x66, 0xcc)  # dimmed by the overlay
    xdotool(tk_root, "mousemove", "600", "300", "mousedown", "1", "mousemove", "700", "400", "mouseup", "1")
    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: bool(seen), timeout=5)
    region, centre = seen[0]
    assert region == Region(600, 300, 100, 100)
    assert centre == (0x33, 0x66, 0xcc)  # overlay already unmapped when on_done runs
    bg.destroy()


def test_magnifier_shows_zoomed_true_pixels_next_to_the_cursor_and_crosshair_follows(tk_root):
    from tray.ui.selector import MAG_SOURCE, MAG_ZOOM

    sel, done = open_selector(tk_root)
    cx, cy = 1005, 465  # on the chequer board of the fake desktop
    xdotool(tk_root, "mousemove", str(cx), str(cy))
    assert pump(tk_root, lambda: sel._cursor == (cx, cy), timeout=5)
    pump(tk_root, timeout=0.05)
    screen = grab_root()
    size, half = MAG_SOURCE * MAG_ZOOM, MAG_SOURCE // 2
    mx, my = cx + 24, cy + 24  # down-right of the cursor (there is room)
    expected = sel.frozen.crop((cx - half, cy - half, cx + half + 1, cy + half + 1)).resize(
        (size, size), Image.Resampling.NEAREST)
    shown = screen.crop((mx, my, mx + size, my + size))
    # compare away from the 2 px frame and the centre marker: undimmed frozen pixels, 8x magnified
    for (x, y) in [(4, 4), (30, 60), (100, 20), (60, 100), (size - 5, size - 5)]:
        assert shown.getpixel((x, y)) == expected.getpixel((x, y)), (x, y)
    # crosshair: the row and column through the cursor are black/white dashes across the whole overlay
    bw = {(0, 0, 0), (255, 255, 255)}
    row = {screen.getpixel((x, cy)) for x in range(10, 600)}
    col = {screen.getpixel((cx, y)) for y in range(100, 400)}
    assert row == bw and col == bw
    assert not {screen.getpixel((x, cy - 3)) for x in range(10, 600)} <= bw  # a row off it: the dimmed screen
    # near the right/bottom edges the magnifier flips to the other side of the cursor
    xdotool(tk_root, "mousemove", "1270", "710")
    assert pump(tk_root, lambda: sel._cursor == (1270, 710), timeout=5)
    pump(tk_root, timeout=0.05)
    l, t = (int(v) for v in sel.canvas.coords(sel._mag_item))
    assert l + size <= 1270 and t + size <= 710
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: done.called, timeout=5)
