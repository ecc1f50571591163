"""Rectangle, ellipse, line, arrow: geometry, hit-testing and exported pixels."""

import math

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import ToolKind
from tray.ui.annotator.tools.shapes import arrow_geometry

from .helpers import WHITE, gesture, is_red, px, white


def test_rectangle_pixels_at_the_stroke_only():
    doc = AnnotationDocument(white(100, 100))
    rect = gesture(doc, ToolKind.RECTANGLE, [(80, 60), (50, 50), (20, 20)], width=4)  # dragged up-left
    assert doc.items == [rect]
    out = doc.render()
    # stroke of width 4 centred on x=20 covers x 18..21; same for the other edges
    for x in (18, 19, 20, 21):
        assert px(out, x, 40) == (255, 0, 0)
    for x in (78, 79, 80, 81):  # right edge x=80: columns 78..81
        assert px(out, x, 40) == (255, 0, 0)
    for y in (18, 21, 58, 61):
        assert px(out, 50, y) == (255, 0, 0)
    assert px(out, 17, 40) == WHITE and px(out, 22, 40) == WHITE
    assert px(out, 77, 40) == WHITE and px(out, 82, 40) == WHITE
    assert px(out, 50, 40) == WHITE  # interior untouched
    assert px(out, 5, 5) == WHITE


def test_rectangle_zero_size_is_not_added():
    doc = AnnotationDocument(white())
    gesture(doc, ToolKind.RECTANGLE, [(30, 30), (30, 30)])
    gesture(doc, ToolKind.RECTANGLE, [(30, 30), (60, 30)])  # zero height
    assert doc.items == [] and not doc.can_undo


def test_rectangle_hit_test_on_outline_not_inside():
    doc = AnnotationDocument(white())
    rect = gesture(doc, ToolKind.RECTANGLE, [(20, 20), (80, 60)])
    assert rect.hit_test(20, 40) and rect.hit_test(50, 61)
    assert not rect.hit_test(50, 40)
    assert not rect.hit_test(5, 5)


def test_ellipse_pixels_on_outline():
    doc = AnnotationDocument(white(120, 100))
    gesture(doc, ToolKind.ELLIPSE, [(20, 20), (100, 80)], width=4)
    out = doc.render()
    assert is_red(px(out, 60, 20)) and is_red(px(out, 60, 80))  # top / bottom
    assert is_red(px(out, 20, 50)) and is_red(px(out, 100, 50))  # left / right
    assert px(out, 60, 50) == WHITE  # centre
    assert px(out, 22, 22) == WHITE  # bounding-box corner is outside the ellipse
    item = doc.items[0]
    assert item.hit_test(60, 20) and not item.hit_test(60, 50) and not item.hit_test(22, 22)


def test_line_pixels_along_the_segment():
    doc = AnnotationDocument(white(120, 100))
    gesture(doc, ToolKind.LINE, [(10, 10), (60, 60), (110, 90)], width=3)
    line = doc.items[0]
    assert line.points == [(10, 10), (110, 90)]  # only the end points matter for a line
    out = doc.render()
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = 10 + 100 * t, 10 + 80 * t
        assert is_red(px(out, round(x), round(y))), t
    assert px(out, 110, 10) == WHITE and px(out, 10, 90) == WHITE
    assert line.hit_test(60, 50) and not line.hit_test(60, 20)


def test_arrow_geometry():
    shaft_end, (tip, left, right) = arrow_geometry((0, 0), (100, 0), 4)
    assert tip == (100, 0)
    head_len = 4 * 4 + 8
    assert left[0] == right[0] == 100 - head_len
    assert left[1] == -right[1] and abs(left[1]) == 2 * 4 + 4
    assert shaft_end[0] < 100 - head_len + 3  # shaft stops at the base of the head
    # short arrows get a proportionally smaller head that never overshoots the start
    _, (_, l2, r2) = arrow_geometry((0, 0), (10, 0), 4)
    assert 0 <= l2[0] == r2[0] < 10
    # rotated arrow: tip is the end point, head symmetric around the axis
    _, (tip3, l3, r3) = arrow_geometry((0, 0), (30, 40), 2)
    assert tip3 == (30, 40)
    assert math.isclose(math.dist(tip3, l3), math.dist(tip3, r3))


def test_arrow_export_pixels():
    doc = AnnotationDocument(white(160, 80))
    arrow = gesture(doc, ToolKind.ARROW, [(10, 40), (150, 40)], width=4)
    out = doc.render()
    assert is_red(px(out, 10, 40)) and is_red(px(out, 80, 40)) and is_red(px(out, 148, 40))
    # the head is wider than the shaft: 10 px off-axis is red near the head base, white mid-shaft
    base_x = 150 - (4 * 4 + 8) + 2
    assert is_red(px(out, base_x, 40 + 9)) and is_red(px(out, base_x, 40 - 9))
    assert px(out, 80, 40 + 9) == WHITE
    assert px(out, 155, 40) == WHITE
    l, t, r, b = arrow.bbox()
    assert l <= 10 and r >= 150 and t <= 40 - 12 and b >= 40 + 12
