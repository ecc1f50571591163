"""Pen and highlighter."""

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import ToolKind

from .helpers import WHITE, gesture, is_red, px, white


def test_pen_collects_points_and_skips_sub_pixel_jitter():
    doc = AnnotationDocument(white())
    pen = gesture(doc, ToolKind.PEN, [(10, 10), (10.3, 10.2), (20, 10), (20, 30), (40, 30)], width=3)
    assert pen.points == [(10, 10), (20, 10), (20, 30), (40, 30)]
    out = doc.render()
    for x, y in [(15, 10), (20, 20), (30, 30), (10, 10), (40, 30)]:
        assert is_red(px(out, x, y)), (x, y)
    assert px(out, 30, 20) == WHITE


def test_pen_click_leaves_a_dot():
    doc = AnnotationDocument(white())
    gesture(doc, ToolKind.PEN, [(50, 50)], width=6)
    out = doc.render()
    assert is_red(px(out, 50, 50)) and is_red(px(out, 52, 50))
    assert px(out, 55, 50) == WHITE


def test_highlighter_is_translucent_and_does_not_darken_itself():
    base = white(120, 60)
    base.paste((0, 0, 0), (50, 0, 60, 60))  # a black bar under the stroke
    doc = AnnotationDocument(base)
    # goes right, then back over itself
    hl = gesture(doc, ToolKind.HIGHLIGHTER, [(10, 30), (100, 30), (30, 30)], color="#ffeb3b", width=4)
    assert hl.stroke_width >= 12
    out = doc.render()
    on_white = px(out, 20, 30)
    assert on_white != WHITE and on_white[2] < 255 and on_white[0] > 200  # tinted yellow, not opaque
    on_black = px(out, 55, 30)
    assert max(on_black) < 150 and on_black != (0, 0, 0)  # black shows through
    # the segment covered twice has exactly the same colour as the part covered once
    assert px(out, 40, 30) == px(out, 90, 30)
    assert px(out, 20, 5) == WHITE  # outside the stroke
