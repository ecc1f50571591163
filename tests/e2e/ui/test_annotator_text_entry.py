"""The text tool's input box under Xvfb (issue 12 #1): typed text is readable whatever its colour, and the box stays
inside the canvas.

Before the fix the box was always white, so white text was typed invisibly (white on white), and a box opened near
the right or bottom edge ran off the canvas. The white-text box is saved as
test-artifacts/annotator/text-entry-white.png.
"""

from __future__ import annotations

import pytest
from PIL import Image

from tray.ui.annotator import AnnotatorWindow
from tray.ui.annotator.tools import ToolKind

from .conftest import ARTIFACTS, grab_root, pixels, pump, xdotool
from .test_annotator import click_widget

pytestmark = pytest.mark.e2e

WHITE = "#ffffff"


def open_window(root, image):
    win = AnnotatorWindow(root, image, lambda png: None, display_scale=1.0)
    assert pump(root, lambda: win.window.winfo_viewable() and win.canvas.winfo_viewable(), timeout=5)
    pump(root, timeout=0.1)
    return win


def box_of(widget) -> tuple[int, int, int, int]:
    x, y = widget.winfo_rootx(), widget.winfo_rooty()
    return x, y, x + widget.winfo_width(), y + widget.winfo_height()


def text_box(win):
    """The text tool's input box: the Entry on the canvas while one is open, else None."""
    import tkinter as tk

    boxes = [w for w in win.canvas.winfo_children() if isinstance(w, tk.Entry) and w.winfo_exists()]
    return boxes[0] if boxes else None


def open_entry_at(root, win, x: int, y: int):
    ox, oy = win.canvas.winfo_rootx(), win.canvas.winfo_rooty()
    xdotool(root, "mousemove", str(ox + x), str(oy + y), "click", "1")
    assert pump(root, lambda: text_box(win) is not None and text_box(win).winfo_viewable(), timeout=5)
    return text_box(win)


def distance(a, b) -> int:
    return max(abs(p - q) for p, q in zip(a[:3], b[:3]))


def test_white_text_is_readable_while_typing(tk_root):
    win = open_window(tk_root, Image.new("RGB", (520, 300), (255, 255, 255)))  # a white page: the worst case
    click_widget(tk_root, win.tool_buttons[ToolKind.TEXT])
    click_widget(tk_root, win.swatches[WHITE])
    assert win.tool_kind is ToolKind.TEXT and win.style.color == WHITE
    entry = open_entry_at(tk_root, win, 40, 60)
    xdotool(tk_root, "type", "--delay", "20", "Bug is here!")
    assert pump(tk_root, lambda: entry.get() == "Bug is here!", timeout=5)
    pump(tk_root, timeout=0.2)

    l, t, r, b = box_of(entry)
    screen = grab_root()
    ARTIFACTS.joinpath("annotator").mkdir(parents=True, exist_ok=True)
    artifact = ARTIFACTS / "annotator" / "text-entry-white.png"
    cl, ct = win.canvas.winfo_rootx(), win.canvas.winfo_rooty()
    screen.crop((max(cl, l - 30), max(ct, t - 20), min(cl + 520, r + 30), min(ct + 300, b + 20))).save(artifact)

    inside = screen.crop((l + 2, t + 2, r - 2, b - 2))  # within the box's 1 px border
    values = pixels(inside)
    background = max(set(values), key=values.count)
    text = [p for p in values if distance(p, (255, 255, 255)) <= 60 and distance(p, background) >= 100]
    assert len(text) >= 60, (
        f"the typed white text cannot be seen: the box's background is {background}, and only {len(text)} pixels "
        f"inside it are near white and differ from that background (see {artifact})")
    # and it reads as text: those pixels span the typed word, not a caret or a speck
    xs = [x for i, p in enumerate(values) if p in text for x in [i % inside.width]]
    assert max(xs) - min(xs) > 100, f"the white text spans only x {min(xs)}..{max(xs)} in the box ({artifact})"

    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    item = win.document.items[0]
    assert item.kind is ToolKind.TEXT and item.text == "Bug is here!" and item.style.color == WHITE
    win.close()


@pytest.mark.parametrize("where", ["right", "bottom", "corner"])
def test_entry_opened_near_the_edge_lies_within_the_canvas(tk_root, where):
    w, h = 420, 260
    win = open_window(tk_root, Image.new("RGB", (w, h), (40, 44, 52)))
    win.select_tool(ToolKind.TEXT)
    x, y = {"right": (w - 8, 100), "bottom": (60, h - 6), "corner": (w - 3, h - 3)}[where]
    entry = open_entry_at(tk_root, win, x, y)
    canvas = box_of(win.canvas)
    box = box_of(entry)
    assert canvas[0] <= box[0] and canvas[1] <= box[1] and box[2] <= canvas[2] and box[3] <= canvas[3], (
        f"text box at {box} runs off the canvas {canvas} (opened at canvas {x},{y}, {where} edge)")
    assert entry.winfo_width() >= 100, "the text box was squeezed instead of moved"

    xdotool(tk_root, "type", "--delay", "20", "edge")
    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: len(win.document.items) == 1, timeout=5)
    tx, ty = win.document.items[0].start
    # the text is placed where it was typed: inside the box, at its left, not at the click off to the right/below
    assert box[0] - canvas[0] <= tx <= box[0] - canvas[0] + 4 and box[1] - canvas[1] <= ty <= box[3] - canvas[1]
    win.close()


def test_entry_grows_with_the_text_up_to_the_canvas_edge(tk_root):
    win = open_window(tk_root, Image.new("RGB", (600, 200), (255, 255, 255)))
    win.select_tool(ToolKind.TEXT)
    entry = open_entry_at(tk_root, win, 20, 40)
    start = entry.winfo_width()
    xdotool(tk_root, "type", "--delay", "5", "a long line of text that is wider than the box was at first")
    pump(tk_root, timeout=0.2)
    canvas = box_of(win.canvas)
    box = box_of(entry)
    assert box[2] - box[0] > start and box[2] <= canvas[2], (start, box, canvas)
    win.close()
