"""Resize handles on the selector's selection (issue 19), under Xvfb with real X input (xdotool): draw a region,
drag a corner handle and an edge handle, drag inside to move, drag an edge across the opposite one; the cursor
shape says what a press does; Enter gives the region whose PNG is exactly those pixels of the frozen screen."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tray.ui.selector import crop_to_region
from tray_platform.base import Region

from .conftest import grab_root, pump, screenshot, xdotool
from .test_selector import open_selector

pytestmark = pytest.mark.e2e


def drag(root, sel, start, end, expect_cursor: str, expect_rect) -> None:
    xdotool(root, "mousemove", str(start[0]), str(start[1]))
    assert pump(root, lambda: sel.canvas.cget("cursor") == expect_cursor, timeout=5), sel.canvas.cget("cursor")
    mid = ((start[0] + end[0]) // 2, (start[1] + end[1]) // 2)
    xdotool(root, "mousedown", "1", "mousemove", str(mid[0]), str(mid[1]), "mousemove", str(end[0]), str(end[1]),
            "mouseup", "1")
    assert pump(root, lambda: sel.model.rect == expect_rect and not sel.model.dragging, timeout=5), sel.model.rect


def test_handles_resize_and_move_then_enter_captures_exactly_that(tk_root):
    sel, done = open_selector(tk_root)
    xdotool(tk_root, "mousemove", "100", "120", "mousedown", "1", "mousemove", "200", "180",
            "mousemove", "300", "250", "mouseup", "1")
    assert pump(tk_root, lambda: sel.model.rect == (100, 120, 300, 250), timeout=5), sel.model.rect
    xdotool(tk_root, "mousemove", "700", "650")
    assert pump(tk_root, lambda: sel.canvas.cget("cursor") == "crosshair", timeout=5)

    drag(tk_root, sel, (300, 250), (420, 330), "bottom_right_corner", (100, 120, 420, 330))  # corner
    drag(tk_root, sel, (103, 225), (163, 228), "left_side", (160, 120, 420, 330))  # edge, grabbed 3 px inside
    drag(tk_root, sel, (300, 200), (250, 260), "fleur", (110, 180, 370, 390))  # inside: move
    # the handles are drawn on the corners and edge midpoints of the new rectangle
    handles = sorted(tuple(round(v) for v in sel.canvas.coords(item)) for item in sel._handles)
    assert handles == sorted((x - 4, y - 4, x + 4, y + 4) for x, y in sel.model.handle_points().values())
    assert all(sel.canvas.itemcget(item, "state") == "normal" for item in sel._handles)
    xdotool(tk_root, "mousemove", "700", "650")
    pump(tk_root, timeout=0.1)
    screen = grab_root()
    shot = screenshot("selector-handles")
    # on screen: bright frozen pixels inside the moved selection, dimmed outside, a handle at the top-left corner
    assert screen.getpixel((240, 300)) == sel.frozen.getpixel((240, 300))
    assert screen.getpixel((140, 150)) != sel.frozen.getpixel((140, 150))
    assert screen.getpixel((110, 180)) == (0x2f, 0x8c, 0xff)

    # the top edge dragged down across the bottom one: the selection flips below it, the cursor with it
    xdotool(tk_root, "mousemove", "240", "180", "mousedown", "1", "mousemove", "240", "420")
    assert pump(tk_root, lambda: sel.model.rect == (110, 390, 370, 420), timeout=5), sel.model.rect
    assert pump(tk_root, lambda: sel.canvas.cget("cursor") == "bottom_side", timeout=5)
    xdotool(tk_root, "mousemove", "240", "450", "mouseup", "1")
    assert pump(tk_root, lambda: sel.model.rect == (110, 390, 370, 450) and not sel.model.dragging, timeout=5)
    assert not done.called

    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: done.called, timeout=5)
    assert done.calls == [Region(110, 390, 260, 60)]
    buf = io.BytesIO()
    crop_to_region(sel.frozen, done.calls[0]).save(buf, "PNG")  # what the capture flow hands on
    png = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    assert png.size == (260, 60)
    assert png.tobytes() == sel.frozen.crop((110, 390, 370, 450)).tobytes()
    print(f"screenshot: {shot}")
