"""Pin to screen (issue 19 item 2) under Xvfb: the pin window's pixels are the image's, a real drag (xdotool) moves
it, the real wheel zooms around the cursor, Ctrl+C puts the PNG on the X clipboard (xclip), Esc closes; two pins at
once. Screenshots in test-artifacts/pin-*.png."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image, ImageDraw

from tray.ui.pin import BORDER, PinBoard

from .conftest import grab_root, pixels, pump, screenshot, xdotool

pytestmark = pytest.mark.e2e


def blocks(w: int = 300, h: int = 200, seed: int = 0) -> Image.Image:
    """10x10 blocks, each its own colour: any pixel says where in the image it is."""
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    for by in range(h // 10):
        for bx in range(w // 10):
            d.rectangle((bx * 10, by * 10, bx * 10 + 9, by * 10 + 9),
                        fill=((bx * 8 + seed) % 256, (by * 12 + seed) % 256, (200 - bx * 5) % 256))
    return img


def shown(x: int, y: int, w: int, h: int) -> Image.Image:
    return grab_root().crop((x, y, x + w, y + h))


def wait_at(root, pin, x: int, y: int) -> bool:
    return pump(root, lambda: pin.position == (x + BORDER, y + BORDER), timeout=5)


@pytest.fixture
def board(tk_root):
    b = PinBoard(tk_root)
    yield b
    b.close_all()
    pump(tk_root, timeout=0.05)


def test_pin_shows_the_image_and_a_drag_moves_it(tk_root, board):
    img = blocks()
    pin = board.pin(img, 100, 80)
    assert wait_at(tk_root, pin, 100, 80)
    pump(tk_root, timeout=0.2)
    assert pixels(shown(101, 81, 300, 200)) == pixels(img)
    assert grab_root().getpixel((100, 80)) == (0x2f, 0x8c, 0xff)  # the border
    screenshot("pin-one")
    xdotool(tk_root, "mousemove", "150", "150", "mousedown", "1", "mousemove", "200", "180", "mousemove", "350", "250",
            "mouseup", "1")
    assert wait_at(tk_root, pin, 300, 180), pin.position
    pump(tk_root, timeout=0.2)
    assert pixels(shown(301, 181, 300, 200)) == pixels(img)


def test_wheel_zooms_around_the_cursor(tk_root, board):
    img = blocks()
    pin = board.pin(img, 200, 150)
    assert wait_at(tk_root, pin, 200, 150)
    cx, cy = 200 + BORDER + 155, 150 + BORDER + 75  # image point (155, 75): inside block (15, 7)
    xdotool(tk_root, "mousemove", str(cx), str(cy))
    before = grab_root().getpixel((cx, cy))
    assert before == img.getpixel((155, 75))
    xdotool(tk_root, "click", "4")
    xdotool(tk_root, "click", "4")
    assert pump(tk_root, lambda: abs(pin.zoom - 1.5625) < 1e-9, timeout=5), pin.zoom
    pump(tk_root, timeout=0.2)
    w, h = pin.shown_size
    assert (w, h) == (469, 312)
    assert (pin.window.winfo_width(), pin.window.winfo_height()) == (w + 2 * BORDER, h + 2 * BORDER)
    left, top = pin.position
    assert abs((cx - left) / pin.zoom - 155) <= 1 and abs((cy - top) / pin.zoom - 75) <= 1
    screen = grab_root()
    screenshot("pin-zoomed")
    assert screen.getpixel((cx, cy)) == before  # the same image point is still under the cursor
    assert screen.getpixel((left + 2, top + 2)) == img.getpixel((0, 0))
    assert screen.getpixel((left + w - 2, top + h - 2)) == img.getpixel((299, 199))
    xdotool(tk_root, "click", "5")
    assert pump(tk_root, lambda: abs(pin.zoom - 1.25) < 1e-9, timeout=5)


def test_ctrl_c_copies_the_original_png_and_escape_closes(tk_root, board):
    from tests.procutil import need_tool
    from tray_platform.linux.clipboard import XclipClipboard

    need_tool("xclip")
    messages = []
    board.clipboard = XclipClipboard()
    board.on_message = lambda title, body: messages.append(title)
    img = blocks(120, 80, seed=40)
    pin = board.pin(img, 400, 300)
    assert wait_at(tk_root, pin, 400, 300)
    xdotool(tk_root, "mousemove", "450", "330", "click", "4")  # zoomed: the copy is still the original pixels
    xdotool(tk_root, "mousemove", "450", "330", "click", "1")  # focus
    xdotool(tk_root, "key", "ctrl+c")
    assert pump(tk_root, lambda: messages, timeout=10)
    assert messages == ["Image copied"]
    png = subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", "image/png"], capture_output=True,
                         timeout=10).stdout
    copied = Image.open(io.BytesIO(png))
    assert copied.size == (120, 80) and pixels(copied.convert("RGB")) == pixels(img)
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: pin.closed, timeout=5)
    assert not board.pins
    pump(tk_root, timeout=0.1)
    assert grab_root().getpixel((450, 330)) != img.getpixel((49, 29))


def test_two_pins_coexist_and_close_one_by_one(tk_root, board):
    emptied = []
    board.on_empty = lambda: emptied.append(True)
    a, b = blocks(200, 100, seed=0), blocks(200, 100, seed=97)
    pa = board.pin(a, 50, 50)
    pb = board.pin(b, 600, 400)
    assert wait_at(tk_root, pa, 50, 50) and wait_at(tk_root, pb, 600, 400)
    pump(tk_root, timeout=0.2)
    screenshot("pin-two")
    assert pixels(shown(51, 51, 200, 100)) == pixels(a)
    assert pixels(shown(601, 401, 200, 100)) == pixels(b)
    xdotool(tk_root, "mousemove", "100", "100", "click", "1", "key", "Escape")
    assert pump(tk_root, lambda: pa.closed, timeout=5)
    assert not pb.closed and board.pins == [pb] and not emptied
    pump(tk_root, timeout=0.1)
    assert pixels(shown(601, 401, 200, 100)) == pixels(b)
    xdotool(tk_root, "mousemove", "650", "450", "click", "2")  # middle click closes too
    assert pump(tk_root, lambda: pb.closed, timeout=5)
    assert emptied == [True]


def test_a_new_pin_without_a_position_lands_below_right_of_the_last(tk_root, board):
    first = board.pin(blocks(100, 60), 300, 200)
    assert wait_at(tk_root, first, 300, 200)
    second = board.pin(blocks(100, 60, seed=5))
    assert wait_at(tk_root, second, 324, 224)


def test_annotator_pin_and_tray_pin_last_screenshot(tk_root, tmp_path, monkeypatch):
    """The annotator's Pin button pins the marked-up image and closes the annotator; the tray's "Pin last
    screenshot" pins it again (CaptureFlow, as the tray app wires it)."""
    from tray import config
    from tray.ui.annotator.tools import ToolKind
    from tray.ui.capture_flow import CaptureFlow
    from tray.ui.context import TrayContext

    monkeypatch.setenv("SNAPLARK_DATA_DIR", str(tmp_path / "data"))
    shown_messages = []
    ctx = TrayContext(config.Settings())
    ctx.root = tk_root
    ctx.notifier = type("N", (), {"notify": lambda self, t, b, **k: shown_messages.append(t)})()
    flow = CaptureFlow(ctx, recent=None)
    flow.pin_last()
    assert shown_messages == ["Nothing to pin"]

    img = blocks(240, 160, seed=11)
    flow.annotate(img)
    annotator = flow.annotator
    assert pump(tk_root, lambda: annotator.window.winfo_viewable(), timeout=5)
    # one red rectangle, drawn with the real pointer
    cx, cy = annotator.canvas.winfo_rootx(), annotator.canvas.winfo_rooty()
    annotator.select_tool(ToolKind.RECTANGLE)
    xdotool(tk_root, "mousemove", str(cx + 20), str(cy + 20), "mousedown", "1", "mousemove", str(cx + 60),
            str(cy + 50), "mousemove", str(cx + 100), str(cy + 80), "mouseup", "1")
    assert pump(tk_root, lambda: len(annotator.document.items) == 1, timeout=5)
    marked = annotator.document.render()
    xdotool(tk_root, "mousemove", str(annotator.pin_button.winfo_rootx() + 5),
            str(annotator.pin_button.winfo_rooty() + 5), "click", "1")
    assert pump(tk_root, lambda: annotator.closed and flow.pins is not None and len(flow.pins.pins) == 1, timeout=5)
    pin = flow.pins.pins[0]
    assert pin.image.size == (240, 160) and pin.image.tobytes() != img.tobytes()  # the rectangle is in it
    assert pin.image.tobytes() == marked.convert("RGB").tobytes()
    pin.window.geometry("+40+40")
    assert wait_at(tk_root, pin, 40, 40)
    pump(tk_root, timeout=0.2)
    assert pixels(shown(41, 41, 240, 160)) == pixels(pin.image)

    flow.pin_last()
    assert len(flow.pins.pins) == 2
    second = flow.pins.pins[1]
    assert second.image.tobytes() == pin.image.tobytes()
    assert wait_at(tk_root, second, 64, 64)
    screenshot("pin-annotated-twice")
    flow.pins.close_all()
