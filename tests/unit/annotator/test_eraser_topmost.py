"""The eraser removes only the topmost annotation under the pointer (issue 12 #14), not everything stacked there."""

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import ToolKind

from .helpers import gesture, white


def test_click_on_stacked_annotations_removes_only_the_top_one():
    doc = AnnotationDocument(white(300, 200))
    marker = gesture(doc, ToolKind.HIGHLIGHTER, [(20, 100), (280, 100)])
    rect = gesture(doc, ToolKind.RECTANGLE, [(100, 60), (200, 140)])
    counter = gesture(doc, ToolKind.COUNTER, [(100, 100)])  # on the rectangle's left edge, over the marker
    gesture(doc, ToolKind.ERASER, [(100, 100)])
    assert doc.items == [marker, rect], "a click erased more than the annotation on top"
    gesture(doc, ToolKind.ERASER, [(100, 100)])
    assert doc.items == [marker]
    gesture(doc, ToolKind.ERASER, [(100, 100)])
    assert doc.items == []
    doc.undo()
    assert doc.items == [marker] and counter not in doc.items


def test_lingering_on_the_top_annotation_does_not_reach_the_one_beneath():
    doc = AnnotationDocument(white(300, 200))
    below = gesture(doc, ToolKind.PIXELATE, [(40, 40), (260, 160)])
    top = gesture(doc, ToolKind.TEXT, [(60, 80)], text="Bug is here!")
    l, t, r, b = top.bbox()
    gesture(doc, ToolKind.ERASER, [(l + 5, (t + b) / 2), (r - 5, (t + b) / 2)])  # a short wobble over the text
    assert doc.items == [below]


def test_a_swipe_still_removes_each_annotation_it_crosses_on_top():
    doc = AnnotationDocument(white(300, 100))
    lines = [gesture(doc, ToolKind.LINE, [(x, 10), (x, 90)], width=2) for x in (50, 150, 250)]
    gesture(doc, ToolKind.ERASER, [(40, 50), (160, 50)])
    assert doc.items == [lines[2]]
    doc.undo()
    assert doc.items == lines
