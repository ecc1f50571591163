"""Selector -> annotator on the real X screen: freeze with mss, select with a drag, annotate, upload bytes."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image, ImageStat

from tray.ui.annotator import AnnotatorWindow
from tray.ui.annotator.tools import ToolKind
from tray.ui.selector import RegionSelector, crop_to_region

from .conftest import fake_desktop, grab_root, pump, screenshot, xdotool

pytestmark = pytest.mark.e2e


def test_freeze_select_annotate_upload(tk_root):
    import tkinter as tk
    from PIL import ImageTk

    # a "desktop" window on the X screen, so the freeze is a real grab of real pixels
    desk = tk.Toplevel(tk_root)
    desk.overrideredirect(True)
    desk.geometry("1280x720+0+0")
    photo = ImageTk.PhotoImage(fake_desktop(), master=desk)
    tk.Label(desk, image=photo, borderwidth=0).pack()
    assert pump(tk_root, lambda: desk.winfo_viewable(), timeout=5)
    pump(tk_root, timeout=0.1)
    frozen = grab_root()
    assert frozen.getpixel((860, 360)) == fake_desktop().getpixel((860, 360))

    regions: list = []
    RegionSelector(tk_root, frozen, (0, 0), regions.append)
    pump(tk_root, timeout=0.1)
    xdotool(tk_root, "mousemove", "700", "200", "mousedown", "1", "mousemove", "1000", "400",
            "mousemove", "1200", "600", "mouseup", "1", "key", "Return")
    assert pump(tk_root, lambda: bool(regions), timeout=5)
    region = regions[0]
    assert (region.left, region.top, region.width, region.height) == (700, 200, 500, 400)
    desk.destroy()

    shot = crop_to_region(frozen, region)
    uploads: list[bytes] = []
    win = AnnotatorWindow(tk_root, shot, uploads.append)
    assert pump(tk_root, lambda: win.canvas.winfo_viewable(), timeout=5)
    ox, oy = win.canvas.winfo_rootx(), win.canvas.winfo_rooty()
    win.select_tool(ToolKind.ELLIPSE)
    win.set_color("#fdd835")
    xdotool(tk_root, "mousemove", str(ox + 40), str(oy + 40), "mousedown", "1",
            "mousemove", str(ox + 280), str(oy + 280), "mouseup", "1")
    win.select_tool(ToolKind.PIXELATE)
    xdotool(tk_root, "mousemove", str(ox + 300), str(oy + 250), "mousedown", "1",  # over the chequer board
            "mousemove", str(ox + 490), str(oy + 390), "mouseup", "1")
    assert pump(tk_root, lambda: len(win.document.items) == 2, timeout=5)
    pump(tk_root, timeout=0.05)
    screenshot("annotator-after-selector")
    xdotool(tk_root, "key", "ctrl+u")
    assert pump(tk_root, lambda: bool(uploads), timeout=5)
    out = Image.open(BytesIO(uploads[0])).convert("RGB")
    assert out.size == (500, 400)
    # untouched pixels are the frozen desktop's, shifted by the region origin
    assert out.getpixel((20, 300)) == frozen.getpixel((720, 500))
    y, x = 160, 40  # left of the ellipse (its centre is (160, 160), radius 120)
    assert out.getpixel((x, y))[:2] > (240, 200) and out.getpixel((x, y))[2] < 80
    blurred = out.crop((300, 250, 490, 390))
    original = frozen.crop((1000, 450, 1190, 590))
    assert blurred.tobytes() != original.tobytes()
    var = lambda img: sum(ImageStat.Stat(img).var)  # noqa: E731
    assert var(blurred) < 0.2 * var(original)  # the hard black/white cells are averaged away
    win.close()
