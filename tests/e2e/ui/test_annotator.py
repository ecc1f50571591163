"""Annotator window under Xvfb: real clicks and drags through xdotool, then the exported PNG is checked."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from tray.ui.annotator import PALETTE, AnnotatorWindow
from tray.ui.annotator.tools import ToolKind

from .conftest import fake_desktop, grab_root, pixels, pump, screenshot, xdotool

pytestmark = pytest.mark.e2e

RED = (0xE5, 0x39, 0x35)
BLUE = (0x1E, 0x88, 0xE5)


def near(c, ref, tol=6):
    return all(abs(a - b) <= tol for a, b in zip(c[:3], ref))


class Sink:
    def __init__(self):
        self.pngs: list[bytes] = []

    def __call__(self, png: bytes):
        self.pngs.append(png)

    def image(self) -> Image.Image:
        return Image.open(BytesIO(self.pngs[-1])).convert("RGB")


def open_annotator(root, image, **kwargs):
    uploads, saves, copies = Sink(), Sink(), Sink()
    win = AnnotatorWindow(root, image, uploads, saves, copies, **kwargs)
    assert pump(root, lambda: win.window.winfo_viewable() and win.canvas.winfo_viewable(), timeout=5)
    pump(root, timeout=0.1)
    return win, uploads, saves, copies


def click_widget(root, widget):
    x = widget.winfo_rootx() + widget.winfo_width() // 2
    y = widget.winfo_rooty() + widget.winfo_height() // 2
    xdotool(root, "mousemove", str(x), str(y), "click", "1")


def drag(root, canvas, points):
    """Press at the first canvas point, move through the rest, release at the last (screen coordinates)."""
    ox, oy = canvas.winfo_rootx(), canvas.winfo_rooty()
    args = ["mousemove", str(ox + points[0][0]), str(oy + points[0][1]), "mousedown", "1"]
    for x, y in points[1:]:
        args += ["mousemove", str(ox + x), str(oy + y)]
    args += ["mouseup", "1"]
    xdotool(root, *args)


def test_draw_rectangle_and_arrow_then_upload_png_has_the_pixels(tk_root):
    image = fake_desktop(900, 520)
    win, uploads, saves, copies = open_annotator(tk_root, image)
    assert win.scale == 1.0

    click_widget(tk_root, win.tool_buttons[ToolKind.RECTANGLE])
    assert win.tool_kind is ToolKind.RECTANGLE
    click_widget(tk_root, win.swatches[PALETTE[0]])  # red
    drag(tk_root, win.canvas, [(100, 120), (200, 200), (400, 300)])
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    rect = win.document.items[0]
    assert rect.kind is ToolKind.RECTANGLE and rect.points == [(100.0, 120.0), (400.0, 300.0)]

    click_widget(tk_root, win.tool_buttons[ToolKind.ARROW])
    click_widget(tk_root, win.swatches[PALETTE[4]])  # blue
    drag(tk_root, win.canvas, [(500, 420), (600, 300), (700, 220)])
    assert pump(tk_root, lambda: len(win.document.items) == 2, timeout=5)
    arrow = win.document.items[1]
    assert arrow.kind is ToolKind.ARROW and arrow.style.color == PALETTE[4]

    # what the user sees: the canvas shows the strokes where they were drawn
    screen = grab_root()
    cx, cy = win.canvas.winfo_rootx(), win.canvas.winfo_rooty()
    assert near(screen.getpixel((cx + 100, cy + 200)), RED)
    assert near(screen.getpixel((cx + 600, cy + 320)), BLUE)
    screenshot("annotator")

    xdotool(tk_root, "key", "ctrl+u")
    assert pump(tk_root, lambda: bool(uploads.pngs), timeout=5)
    out = uploads.image()
    assert out.size == image.size
    for x, y in [(100, 200), (400, 200), (250, 120), (250, 300)]:  # the four edges
        assert near(out.getpixel((x, y)), RED), (x, y)
    assert out.getpixel((250, 200)) == image.getpixel((250, 200))  # inside the rectangle untouched
    assert near(out.getpixel((600, 320)), BLUE)  # on the shaft (line from (500,420) to (700,220))
    assert near(out.getpixel((696, 224)), BLUE)  # in the head near the tip
    assert out.getpixel((20, 20)) == image.getpixel((20, 20))
    assert not saves.pngs and not copies.pngs


def test_undo_redo_keys_and_copy_save_callbacks(tk_root):
    image = Image.new("RGB", (600, 400), (255, 255, 255))
    win, uploads, saves, copies = open_annotator(tk_root, image)
    xdotool(tk_root, "key", "r")  # tool shortcut
    assert win.tool_kind is ToolKind.RECTANGLE
    drag(tk_root, win.canvas, [(50, 50), (150, 150)])
    drag(tk_root, win.canvas, [(200, 50), (300, 150)])
    assert pump(tk_root, lambda: len(win.document.items) == 2, timeout=5)
    xdotool(tk_root, "key", "ctrl+z")
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    xdotool(tk_root, "key", "ctrl+shift+z")
    assert pump(tk_root, lambda: len(win.document.items) == 2, timeout=5)
    xdotool(tk_root, "key", "ctrl+z", "ctrl+z")
    assert pump(tk_root, lambda: len(win.document.items) == 0, timeout=5)
    assert str(win.undo_button.cget("state")) == "disabled"
    xdotool(tk_root, "key", "ctrl+y")
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    xdotool(tk_root, "key", "ctrl+c")
    assert pump(tk_root, lambda: bool(copies.pngs), timeout=5)
    xdotool(tk_root, "key", "ctrl+s")
    assert pump(tk_root, lambda: bool(saves.pngs), timeout=5)
    assert copies.pngs[-1] == saves.pngs[-1]
    out = saves.image()
    assert near(out.getpixel((50, 100)), RED) and out.getpixel((200, 100)) == (255, 255, 255)


def test_text_tool_types_into_an_entry(tk_root):
    image = Image.new("RGB", (500, 300), (255, 255, 255))
    win, uploads, *_ = open_annotator(tk_root, image)
    click_widget(tk_root, win.tool_buttons[ToolKind.TEXT])
    ox, oy = win.canvas.winfo_rootx(), win.canvas.winfo_rooty()
    xdotool(tk_root, "mousemove", str(ox + 40), str(oy + 60), "click", "1")
    assert pump(tk_root, lambda: win._text_entry is not None, timeout=5)
    xdotool(tk_root, "type", "--delay", "20", "Bug here")
    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    item = win.document.items[0]
    assert item.kind is ToolKind.TEXT and item.text == "Bug here" and item.start == (40.0, 60.0)
    pump(tk_root, timeout=0.05)
    screenshot("annotator-text")
    click_widget(tk_root, win.upload_button)
    assert pump(tk_root, lambda: bool(uploads.pngs), timeout=5)
    l, t, r, b = (int(v) for v in item.bbox())
    crop = uploads.image().crop((l, t, r + 1, b + 1))
    assert any(near(p, RED, 40) for p in pixels(crop) if p != (255, 255, 255))


def test_hidpi_capture_is_shown_scaled_and_exported_at_native_resolution(tk_root):
    image = fake_desktop(1600, 1000)  # a 2x capture of an 800x500 logical area
    win, uploads, *_ = open_annotator(tk_root, image, display_scale=0.5)
    assert (win.canvas.winfo_width(), win.canvas.winfo_height()) == (800, 500)
    click_widget(tk_root, win.tool_buttons[ToolKind.RECTANGLE])
    win.set_width(6)
    drag(tk_root, win.canvas, [(100, 100), (300, 250)])
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    assert win.document.items[0].points == [(200.0, 200.0), (600.0, 500.0)]  # image pixels
    screenshot("annotator-hidpi")
    xdotool(tk_root, "key", "ctrl+u")
    assert pump(tk_root, lambda: bool(uploads.pngs), timeout=5)
    out = uploads.image()
    assert out.size == (1600, 1000)
    assert near(out.getpixel((200, 350)), RED) and near(out.getpixel((202, 350)), RED)
    assert out.getpixel((207, 350)) == image.getpixel((207, 350))


def test_blur_hides_pixels_on_screen_and_in_export(tk_root):
    image = fake_desktop(900, 520)
    win, uploads, *_ = open_annotator(tk_root, image)
    click_widget(tk_root, win.tool_buttons[ToolKind.PIXELATE])
    drag(tk_root, win.canvas, [(85, 95), (400, 300)])  # over the terminal text
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    click_widget(tk_root, win.tool_buttons[ToolKind.COUNTER])
    ox, oy = win.canvas.winfo_rootx(), win.canvas.winfo_rooty()
    xdotool(tk_root, "mousemove", str(ox + 500), str(oy + 100), "click", "1")
    xdotool(tk_root, "mousemove", str(ox + 560), str(oy + 100), "click", "1")
    assert pump(tk_root, lambda: len(win.document.items) == 3, timeout=5)
    assert [i.number for i in win.document.items[1:]] == [1, 2]
    screenshot("annotator-blur-counter")
    xdotool(tk_root, "key", "ctrl+u")
    assert pump(tk_root, lambda: bool(uploads.pngs), timeout=5)
    out = uploads.image().crop((85, 95, 400, 300))
    original = image.crop((85, 95, 400, 300))
    assert out.tobytes() != original.tobytes()
    # the crisp text rows are gone: far fewer distinct colours than the anti-aliased original
    assert len(set(pixels(out))) < len(set(pixels(original))) / 3


def test_capture_larger_than_the_screen_is_fitted_on_screen_and_exported_full_size(tk_root):
    image = fake_desktop(2560, 1440)
    win, uploads, *_ = open_annotator(tk_root, image)
    assert win.scale < 0.5
    assert win.window.winfo_reqwidth() <= 1280 and win.window.winfo_reqheight() <= 720
    win.select_tool(ToolKind.LINE)
    drag(tk_root, win.canvas, [(50, 50), (250, 50)])
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    (x0, y0), (x1, y1) = win.document.items[0].points
    assert abs(x0 - 50 / win.scale) <= 1 / win.scale and abs(x1 - 250 / win.scale) <= 1 / win.scale
    win.upload()
    out = uploads.image()
    assert out.size == (2560, 1440)
    assert near(out.getpixel((round((x0 + x1) / 2), round(y0))), RED)
