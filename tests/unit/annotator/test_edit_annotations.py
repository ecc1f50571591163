"""Editing annotations after drawing (the select tool's model): copies, moves, handles, and the document's
replace step with undo/redo, checked on the rendered pixels."""

import pytest

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import ToolKind, create_tool

from .helpers import WHITE, gesture, is_red, px, white


def test_move_is_one_undo_step_and_the_export_follows():
    doc = AnnotationDocument(white(200, 120))
    rect = gesture(doc, ToolKind.RECTANGLE, [(10, 10), (50, 50)])
    changes = []
    doc.subscribe(lambda: changes.append(list(doc.items)))
    moved = rect.copy()
    moved.translate(100, 40)
    doc.replace(rect, moved)
    assert doc.items == [moved] and rect.points == [(10.0, 10.0), (50.0, 50.0)]  # the original is untouched
    out = doc.render()
    assert px(out, 10, 30) == WHITE and is_red(px(out, 110, 70)) and is_red(px(out, 150, 90))
    assert doc.undo() and doc.items == [rect]
    out = doc.render()
    assert is_red(px(out, 10, 30)) and px(out, 110, 70) == WHITE
    assert doc.redo() and doc.items == [moved]
    assert changes == [[moved], [rect], [moved]]


def test_replace_keeps_the_stacking_order_and_refuses_a_stranger():
    doc = AnnotationDocument(white())
    a = gesture(doc, ToolKind.LINE, [(5, 5), (50, 50)])
    b = gesture(doc, ToolKind.ELLIPSE, [(10, 10), (60, 60)])
    c = gesture(doc, ToolKind.ARROW, [(70, 10), (100, 40)])
    b2 = b.copy()
    b2.translate(3, 3)
    doc.replace(b, b2)
    assert doc.items == [a, b2, c]
    with pytest.raises(ValueError, match="not in the document"):
        doc.replace(b, b.copy())


def test_corner_handles_keep_the_opposite_corner():
    rect = create_tool(ToolKind.RECTANGLE)
    rect.press(40, 30)
    rect.release(10, 10)  # drawn from bottom-right to top-left
    assert rect.handles() == [(10, 10), (40, 10), (40, 30), (10, 30)]
    rect.drag_handle(2, 90, 70)  # bottom-right out: top-left stays
    assert rect.handles() == [(10, 10), (90, 10), (90, 70), (10, 70)]
    rect.drag_handle(0, 120, 100)  # top-left dragged past the opposite corner: the shape flips
    assert rect.handles() == [(90, 70), (120, 70), (120, 100), (90, 100)]
    with pytest.raises(ValueError, match="four"):
        rect.drag_handle(4, 0, 0)


@pytest.mark.parametrize("kind", [ToolKind.ARROW, ToolKind.LINE])
def test_end_point_handles_move_one_end(kind):
    tool = create_tool(kind)
    tool.press(10, 10)
    tool.release(60, 20)
    assert tool.handles() == [(10, 10), (60, 20)]
    tool.drag_handle(1, 80, 90)
    assert (tool.start, tool.end) == ((10, 10), (80, 90))
    tool.drag_handle(0, 0, 5)
    assert (tool.start, tool.end) == ((0, 5), (80, 90))


@pytest.mark.parametrize("kind", [ToolKind.PEN, ToolKind.HIGHLIGHTER, ToolKind.TEXT, ToolKind.COUNTER])
def test_other_annotations_only_move(kind):
    doc = AnnotationDocument(white())
    item = gesture(doc, kind, [(20, 20), (30, 25), (40, 30)], text="hi" if kind is ToolKind.TEXT else None)
    assert item.handles() == []
    with pytest.raises(ValueError, match="no resize handles"):
        item.drag_handle(0, 1, 1)
    moved = item.copy()
    moved.translate(-5, 10)
    assert moved.points == [(x - 5, y + 10) for x, y in item.points]
    assert moved.to_dict()["kind"] == kind.key and moved.style is not item.style


def test_copies_keep_text_and_counter_number():
    doc = AnnotationDocument(white())
    gesture(doc, ToolKind.COUNTER, [(20, 20)])
    second = gesture(doc, ToolKind.COUNTER, [(60, 20)])
    text = gesture(doc, ToolKind.TEXT, [(10, 60)], text="Bug")
    assert second.copy().number == 2
    edited = text.copy()
    edited.set_text("Fixed")
    doc.replace(text, edited)
    assert text.text == "Bug" and doc.items[-1].text == "Fixed"
    assert doc.render().tobytes() != doc.render(upto=2).tobytes()
    doc.undo()
    assert doc.items[-1] is text
