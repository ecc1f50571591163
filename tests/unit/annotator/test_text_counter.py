"""Text and numbered counter."""

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import Style, ToolContext, ToolKind, create_tool

from .helpers import WHITE, gesture, is_red, pixels, px, white


def count_non_white(img, box):
    return sum(1 for p in pixels(img.crop(box)) if p != WHITE)


def test_text_renders_inside_its_bbox():
    doc = AnnotationDocument(white(300, 100))
    text = gesture(doc, ToolKind.TEXT, [(20, 20)], width=4, text="Snaplark 42")
    assert doc.items == [text]
    l, t, r, b = text.bbox()
    assert l >= 19 and t >= 19 and r > l + 60 and b > t + 10
    out = doc.render()
    inside = count_non_white(out, (int(l), int(t), int(r) + 1, int(b) + 1))
    assert inside > 100
    assert count_non_white(out, (0, 0, 300, 100)) == inside  # nothing outside the bbox
    assert text.hit_test(l + 3, t + 3) and not text.hit_test(r + 20, b + 20)


def test_text_without_content_is_not_added():
    doc = AnnotationDocument(white())
    gesture(doc, ToolKind.TEXT, [(20, 20)], text="   ")
    assert doc.items == []


def test_text_size_follows_stroke_width():
    small = create_tool(ToolKind.TEXT, Style("red", 1))
    big = create_tool(ToolKind.TEXT, Style("red", 8))
    for t in (small, big):
        t.press(0, 0)
        t.set_text("abc")
    assert (big.bbox()[3] - big.bbox()[1]) > 2 * (small.bbox()[3] - small.bbox()[1])


def test_counter_numbers_increase_and_follow_undo():
    doc = AnnotationDocument(white(200, 100))
    a = gesture(doc, ToolKind.COUNTER, [(30, 50)])
    b = gesture(doc, ToolKind.COUNTER, [(80, 50)])
    c = gesture(doc, ToolKind.COUNTER, [(130, 50)])
    assert [a.number, b.number, c.number] == [1, 2, 3]
    doc.undo()
    assert doc.next_counter() == 3
    d = gesture(doc, ToolKind.COUNTER, [(130, 50), (140, 55)])  # dragging moves it before release
    assert d.number == 3 and d.start == (140, 55)


def test_counter_pixels_disc_with_light_number():
    doc = AnnotationDocument(white(100, 100))
    tool = create_tool(ToolKind.COUNTER, Style("#ff0000", 4), ToolContext(next_counter=7))
    tool.press(50, 50)
    tool.release(50, 50)
    doc.commit(tool)
    out = doc.render()
    r = tool.radius
    assert is_red(px(out, int(50 - r + 3), 50)) and is_red(px(out, 50, int(50 + r - 3)))
    assert px(out, int(50 + r + 3), 50) == WHITE
    disc = out.crop((int(50 - r / 2), int(50 - r / 2), int(50 + r / 2), int(50 + r / 2)))
    assert any(min(p) > 200 for p in pixels(disc))  # white digit on the red disc
    assert tool.hit_test(50, 50) and not tool.hit_test(50 + r + 10, 50)
