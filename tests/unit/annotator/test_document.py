"""Document model: undo/redo, eraser, export at native resolution, serialisation."""

from io import BytesIO

from PIL import Image

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import ToolKind

from .helpers import WHITE, gesture, is_red, noise, px, white


def test_undo_redo_stacks():
    doc = AnnotationDocument(white())
    changes = []
    doc.subscribe(lambda: changes.append(len(doc.items)))
    a = gesture(doc, ToolKind.RECTANGLE, [(10, 10), (40, 40)])
    b = gesture(doc, ToolKind.LINE, [(50, 50), (90, 90)])
    assert doc.items == [a, b] and doc.can_undo and not doc.can_redo
    assert doc.undo() and doc.items == [a]
    assert doc.undo() and doc.items == []
    assert not doc.undo()
    assert doc.redo() and doc.items == [a]
    c = gesture(doc, ToolKind.ELLIPSE, [(60, 10), (100, 40)])
    assert doc.items == [a, c]
    assert not doc.can_redo and not doc.redo()  # a new edit clears redo
    assert changes == [1, 2, 1, 0, 1, 2]


def test_undo_changes_exported_pixels():
    doc = AnnotationDocument(white())
    gesture(doc, ToolKind.RECTANGLE, [(10, 10), (40, 40)])
    assert is_red(px(doc.render(), 10, 20))
    doc.undo()
    assert px(doc.render(), 10, 20) == WHITE
    doc.redo()
    assert is_red(px(doc.render(), 10, 20))


def test_eraser_removes_the_touched_item_and_is_undoable():
    doc = AnnotationDocument(white(200, 100))
    a = gesture(doc, ToolKind.RECTANGLE, [(10, 10), (50, 50)])
    b = gesture(doc, ToolKind.LINE, [(100, 10), (100, 90)])
    c = gesture(doc, ToolKind.COUNTER, [(160, 50)])
    gesture(doc, ToolKind.ERASER, [(95, 40), (105, 40)])  # swipe across the line only
    assert doc.items == [a, c]
    assert px(doc.render(), 100, 70) == WHITE
    doc.undo()
    assert doc.items == [a, b, c]  # restored at its old position (z-order kept)
    doc.redo()
    assert doc.items == [a, c]


def test_eraser_fast_swipe_hits_thin_item_between_samples():
    doc = AnnotationDocument(white(200, 100))
    line = gesture(doc, ToolKind.LINE, [(100, 10), (100, 90)], width=1)
    gesture(doc, ToolKind.ERASER, [(20, 50), (180, 50)])  # a single long jump across it
    assert line not in doc.items


def test_eraser_on_empty_space_is_not_an_edit():
    doc = AnnotationDocument(white())
    gesture(doc, ToolKind.RECTANGLE, [(10, 10), (30, 30)])
    gesture(doc, ToolKind.ERASER, [(80, 80), (90, 85)])
    assert len(doc.items) == 1
    doc.undo()
    assert doc.items == []  # the only undo step was the rectangle


def test_eraser_multi_remove_undo_restores_order():
    doc = AnnotationDocument(white(200, 100))
    items = [gesture(doc, ToolKind.LINE, [(x, 10), (x, 90)], width=2) for x in (20, 60, 100, 140)]
    gesture(doc, ToolKind.ERASER, [(50, 50), (110, 50)])  # hits the 2nd and 3rd
    assert doc.items == [items[0], items[3]]
    doc.undo()
    assert doc.items == items


def test_export_png_at_native_resolution():
    # a "HiDPI" 2x screenshot: the window may show it at half size, export keeps every image pixel
    base = noise(400, 300)
    doc = AnnotationDocument(base)
    gesture(doc, ToolKind.RECTANGLE, [(100, 100), (300, 200)], width=2)
    png = doc.export_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(BytesIO(png))
    assert img.size == (400, 300) and img.mode == "RGB"
    assert is_red(px(img, 100, 150))
    assert px(img, 5, 5) == px(base, 5, 5)  # untouched pixels are bit-exact (lossless)


def test_rgba_input_is_exported_as_rgb():
    doc = AnnotationDocument(Image.new("RGBA", (20, 20), (10, 20, 30, 255)))
    assert Image.open(BytesIO(doc.export_png())).mode == "RGB"


def test_json_round_trip_renders_identically():
    doc = AnnotationDocument(white(200, 120))
    gesture(doc, ToolKind.ARROW, [(10, 10), (150, 100)], color="#1e88e5")
    gesture(doc, ToolKind.PEN, [(20, 100), (40, 80), (60, 100)])
    gesture(doc, ToolKind.TEXT, [(100, 10)], text="Hi")
    gesture(doc, ToolKind.COUNTER, [(170, 30)])
    gesture(doc, ToolKind.HIGHLIGHTER, [(10, 60), (120, 60)], color="#ffeb3b")
    gesture(doc, ToolKind.PIXELATE, [(90, 70), (140, 110)])
    other = AnnotationDocument(white(200, 120))
    other.load_items_json(doc.items_to_json())
    assert [i.to_dict() for i in other.items] == [i.to_dict() for i in doc.items]
    assert other.render().tobytes() == doc.render().tobytes()


def test_backdrop_is_what_lies_beneath():
    doc = AnnotationDocument(white(100, 100))
    rect = gesture(doc, ToolKind.RECTANGLE, [(10, 10), (50, 50)])
    blur = gesture(doc, ToolKind.PIXELATE, [(0, 0), (60, 60)])
    assert doc.backdrop(rect).tobytes() == doc.base.tobytes()
    assert is_red(px(doc.backdrop(blur), 10, 30))
