"""Editing annotations after drawing, driven like a user (xdotool on the Xvfb display): the Select tool (``V``)
picks the topmost annotation under a click and shows its handles, a drag moves it, a corner or end handle resizes
it, Delete removes it, a double-click on a text edits it; with a shape tool a click that draws nothing selects too.
Every check is on the PNG the window exports (Upload), and each change is one undo step: Ctrl+Z gives back exactly
the PNG exported before it. Screenshots: test-artifacts/annotator-select-*.png.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from tray.ui.annotator import AnnotatorWindow
from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import Style, ToolKind, create_tool

from .conftest import grab_root, pump, screenshot, xdotool

pytestmark = pytest.mark.e2e

WHITE = (255, 255, 255)
HANDLE_EDGE = (0x1E, 0x88, 0xE5)


def red(p) -> bool:
    return p[0] > 180 and p[1] < 90 and p[2] < 90


class Driver:
    """An annotator window on a white screenshot, shown at ``scale``; points are given in display pixels."""

    def __init__(self, root, scale: float, size=(320, 220)) -> None:
        self.root, self.scale = root, scale
        self.base = Image.new("RGB", (round(size[0] / scale), round(size[1] / scale)), WHITE)
        self.pngs: list[bytes] = []
        self.win = AnnotatorWindow(root, self.base, self.pngs.append, display_scale=scale)
        assert pump(root, lambda: self.win.canvas.winfo_viewable(), timeout=5)
        self.win.set_color("#e53935")
        self.win.set_width(4)
        self.ox, self.oy = self.win.canvas.winfo_rootx(), self.win.canvas.winfo_rooty()

    def at(self, x, y) -> list[str]:
        return ["mousemove", str(self.ox + x), str(self.oy + y)]

    def drag(self, a, b) -> None:
        mid = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
        xdotool(self.root, *self.at(*a), "mousedown", "1", *self.at(*mid), *self.at(*b), "mouseup", "1")

    def click(self, p, *, repeat: int = 1) -> None:
        xdotool(self.root, *self.at(*p), "click", "--repeat", str(repeat), "--delay", "80", "1")

    def key(self, *keys: str) -> None:
        xdotool(self.root, "key", *keys)

    def export(self) -> Image.Image:
        self.win.upload()
        return Image.open(BytesIO(self.pngs[-1])).convert("RGB")

    def img(self, x, y) -> tuple[int, int]:
        """Image pixel coordinates of display point (x, y)."""
        return round(x / self.scale), round(y / self.scale)

    def shown(self, x, y):
        return grab_root().getpixel((self.ox + x, self.oy + y))


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_select_move_resize_delete_each_one_undo_step(tk_root, scale):
    d = Driver(tk_root, scale)
    d.win.select_tool(ToolKind.RECTANGLE)
    d.drag((20, 20), (100, 80))
    assert pump(tk_root, lambda: len(d.win.document.items) == 1, timeout=5)
    drawn = d.export()
    assert red(drawn.getpixel(d.img(20, 50))) and drawn.getpixel(d.img(150, 100)) == WHITE

    d.key("v")
    assert d.win.tool_kind is ToolKind.SELECT
    d.click((20, 50))  # on the left edge: selected, handles on the corners
    rect = d.win.document.items[0]
    assert d.win.selection.item is rect
    pump(tk_root, timeout=0.05)
    assert d.shown(100 - 5, 80) == HANDLE_EDGE and d.shown(20, 20 - 5) == HANDLE_EDGE, "no handles on screen"
    if scale == 1.0:
        screenshot("annotator-select-1-selected")
    assert d.export().tobytes() == drawn.tobytes()  # a click moves nothing, and handles are not exported

    d.drag((20, 50), (120, 100))  # move by (100, 50) display pixels
    moved = d.export()
    assert moved.getpixel(d.img(20, 50)) == WHITE
    assert red(moved.getpixel(d.img(120, 100))) and red(moved.getpixel(d.img(200, 100)))
    assert red(moved.getpixel(d.img(160, 70))) and red(moved.getpixel(d.img(160, 130)))
    d.key("ctrl+z")
    assert d.export().tobytes() == drawn.tobytes(), "one Ctrl+Z did not put the rectangle back"
    d.key("ctrl+y")
    assert d.export().tobytes() == moved.tobytes()

    d.win.selection.select(d.win.document.items[0])  # (undo dropped the selection of the replaced copy)
    d.drag((200, 130), (260, 180))  # the bottom-right handle: the top-left corner stays at (120, 70)
    resized = d.export()
    assert red(resized.getpixel(d.img(260, 150))) and red(resized.getpixel(d.img(190, 180)))
    assert red(resized.getpixel(d.img(120, 100))) and red(resized.getpixel(d.img(190, 70)))
    assert resized.getpixel(d.img(200, 100)) == WHITE and resized.getpixel(d.img(160, 130)) == WHITE
    pump(tk_root, timeout=0.05)
    if scale == 1.0:
        screenshot("annotator-select-2-resized")

    d.key("Delete")
    assert d.win.document.items == [] and d.export().tobytes() == d.base.tobytes()
    d.key("ctrl+z")
    assert d.export().tobytes() == resized.tobytes()
    d.key("ctrl+z")
    assert d.export().tobytes() == moved.tobytes()
    d.win.close()


def test_a_click_with_a_shape_tool_selects_and_an_arrow_end_is_dragged(tk_root):
    d = Driver(tk_root, 1.0)
    d.win.select_tool(ToolKind.ELLIPSE)
    d.drag((200, 120), (300, 200))
    d.win.select_tool(ToolKind.ARROW)
    d.drag((30, 150), (150, 150))
    assert pump(tk_root, lambda: len(d.win.document.items) == 2, timeout=5)
    ellipse, arrow = d.win.document.items
    before = d.export()
    d.click((90, 151))  # a click on the arrow's shaft with the arrow tool: nothing drawn, the arrow selected
    assert d.win.document.items == [ellipse, arrow] and d.win.selection.item is arrow
    d.drag((150, 150), (250, 60))  # its head's handle
    after = d.export()
    assert d.win.tool_kind is ToolKind.ARROW and d.win.document.items[0] is ellipse
    assert d.win.document.items[1].end == (250, 60) and d.win.document.items[1].start == (30, 150)
    assert red(after.getpixel((248, 62))) and after.getpixel((145, 150)) == WHITE  # the head went to (250, 60)
    assert red(after.getpixel((140, 105)))  # on the new shaft (30, 150) -> (250, 60)
    ellipse_box = (196, 116, 305, 205)
    assert after.crop(ellipse_box).tobytes() == before.crop(ellipse_box).tobytes()  # the ellipse is untouched
    d.click((60, 40))  # a click on nothing: the selection goes
    assert d.win.selection.item is None
    d.key("ctrl+z")
    assert d.export().tobytes() == before.tobytes()
    d.win.close()


def expected_text(base: Image.Image, at, text: str) -> bytes:
    """The document's own rendering of one red width-4 text at ``at`` (what the export must equal)."""
    doc = AnnotationDocument(base)
    tool = create_tool(ToolKind.TEXT, Style("#e53935", 4), doc.context())
    tool.press(*at)
    tool.set_text(text)
    doc.commit(tool)
    return doc.render().tobytes()


def test_double_click_edits_a_text_and_a_drag_moves_it(tk_root):
    d = Driver(tk_root, 1.0)
    d.win.select_tool(ToolKind.TEXT)
    d.click((30, 40))
    assert pump(tk_root, lambda: d.win._text_entry is not None, timeout=5)
    xdotool(tk_root, "type", "--delay", "15", "Snap")
    d.key("Return")
    assert pump(tk_root, lambda: len(d.win.document.items) == 1, timeout=5)
    at = d.win.document.items[0].start
    typed = d.export()
    assert typed.tobytes() == expected_text(d.base, at, "Snap")

    d.key("v")
    d.click((40, 52), repeat=2)  # a double-click on the text: its box opens again, holding the text
    assert pump(tk_root, lambda: d.win._text_entry is not None, timeout=5)
    pump(tk_root, timeout=0.1)
    screenshot("annotator-select-3-text-reopened")
    xdotool(tk_root, "key", "End", "BackSpace", "BackSpace", "BackSpace", "BackSpace")
    xdotool(tk_root, "type", "--delay", "15", "Lark 42")
    d.key("Return")
    assert pump(tk_root, lambda: d.win._text_entry is None, timeout=5)
    assert len(d.win.document.items) == 1 and d.win.document.items[0].text == "Lark 42"
    edited = d.export()
    assert edited.tobytes() == expected_text(d.base, at, "Lark 42")

    d.drag((40, 52), (140, 152))  # select + drag in one gesture
    assert d.win.document.items[0].start == (at[0] + 100, at[1] + 100)
    assert d.export().tobytes() == expected_text(d.base, (at[0] + 100, at[1] + 100), "Lark 42")
    pump(tk_root, timeout=0.05)
    screenshot("annotator-select-4-text-moved")
    moved = d.export()
    # opened again near the right edge, the box is as wide as the text: the text does not jump left to fit it
    d.click((150, 162), repeat=2)
    assert pump(tk_root, lambda: d.win._text_entry is not None, timeout=5)
    xdotool(tk_root, "key", "End", "exclam", "Return")
    assert pump(tk_root, lambda: d.win._text_entry is None, timeout=5)
    assert d.win.document.items[0].start == (at[0] + 100, at[1] + 100)
    assert d.export().tobytes() == expected_text(d.base, (at[0] + 100, at[1] + 100), "Lark 42!")
    d.key("ctrl+z")
    assert d.export().tobytes() == moved.tobytes()
    d.key("ctrl+z")
    assert d.export().tobytes() == edited.tobytes()
    d.key("ctrl+z")  # the edit was one step too
    assert d.export().tobytes() == typed.tobytes()
    d.win.close()
