"""Resize handles of the region selection (tray/ui/selection_model.py): hit-testing, resizing from each handle,
crossing the opposite edge, clamping to the overlay, minimum size. No display needed."""

import pytest

from tray.ui.selection_model import HANDLE_CURSORS, HANDLES, SelectionModel


def selected(rect=(100, 100, 300, 200), size=(640, 480), **kw) -> SelectionModel:
    m = SelectionModel(*size, **kw)
    m.press(*rect[:2])
    m.release(*rect[2:])
    assert m.rect == rect
    return m


def drag(m: SelectionModel, start, end) -> str:
    what = m.press(*start)
    m.drag((start[0] + end[0]) // 2, (start[1] + end[1]) // 2)
    m.release(*end)
    return what


@pytest.mark.parametrize("point, expected", [
    ((100, 100), "nw"), ((200, 100), "n"), ((300, 100), "ne"), ((300, 150), "e"),
    ((300, 200), "se"), ((200, 200), "s"), ((100, 200), "sw"), ((100, 150), "w"),
    ((94, 93), "nw"), ((307, 207), "se"),  # just outside a corner, within the tolerance
    ((150, 105), "n"), ((296, 120), "e"),  # anywhere along an edge, not only at its midpoint
    ((200, 150), "move"), ((110, 110), "move"),
    ((91, 150), None), ((200, 209), None), ((500, 400), None),  # past the tolerance: a new selection
])
def test_hit_test(point, expected):
    m = selected()
    assert m.hit_test(*point) == expected
    assert m.press(*point) == (expected or "new")


def test_handle_points_are_corners_and_midpoints():
    m = selected()
    pts = m.handle_points()
    assert list(pts) == list(HANDLES)
    assert pts == {"nw": (100, 100), "n": (200, 100), "ne": (300, 100), "e": (300, 150), "se": (300, 200),
                   "s": (200, 200), "sw": (100, 200), "w": (100, 150)}
    assert all(m.hit_test(*p) == name for name, p in pts.items())
    assert set(HANDLE_CURSORS) == {*HANDLES, "move", None}
    assert SelectionModel(640, 480).handle_points() == {} and SelectionModel(640, 480).hit_test(5, 5) is None


def test_small_selection_can_still_be_moved_from_its_middle():
    m = selected((100, 100, 112, 109))
    assert m.hit_test(106, 104) == "move"  # the grab zones shrank to a third of each side
    assert m.hit_test(100, 100) == "nw" and m.hit_test(112, 109) == "se"
    assert m.hit_test(95, 95) is None  # a full tolerance away would grab a 12x9 selection from anywhere


@pytest.mark.parametrize("handle, delta, expected", [
    ("nw", (-20, -30), (80, 70, 300, 200)),
    ("n", (15, -30), (100, 70, 300, 200)),  # an edge handle moves only its edge
    ("ne", (40, 10), (100, 110, 340, 200)),
    ("e", (-50, 99), (100, 100, 250, 200)),
    ("se", (5, 6), (100, 100, 305, 206)),
    ("s", (-7, 30), (100, 100, 300, 230)),
    ("sw", (10, -10), (110, 100, 300, 190)),
    ("w", (60, 60), (160, 100, 300, 200)),
])
def test_resize_from_each_handle(handle, delta, expected):
    m = selected()
    start = m.handle_points()[handle]
    start = (start[0] + 2, start[1] - 1)  # grabbed a little off the handle: the edge follows the delta, no jump
    assert drag(m, start, (start[0] + delta[0], start[1] + delta[1])) == handle
    assert m.rect == expected
    assert not m.dragging


def test_crossing_the_opposite_edge_flips_the_selection():
    m = selected()
    m.press(100, 100)  # nw
    m.drag(350, 260)  # past the right and bottom edges
    assert m.rect == (300, 200, 350, 260) and m.active_handle == "se"
    m.drag(120, 260)  # back across in x only
    assert m.rect == (120, 200, 300, 260) and m.active_handle == "sw"
    m.release(120, 260)
    assert m.active_handle is None
    m = selected()
    drag(m, (300, 150), (40, 150))  # e handle across the left edge
    assert m.rect == (40, 100, 100, 200)
    assert m.hit_test(40, 150) == "w"  # the handles follow the new geometry


def test_resize_is_clamped_to_the_overlay():
    m = selected()
    drag(m, (300, 200), (2000, 2000))
    assert m.rect == (100, 100, 640, 480)
    drag(m, (100, 100), (-500, -500))
    assert m.rect == (0, 0, 640, 480)
    drag(m, (0, 240), (-3000, 240))  # w handle dragged far past the left edge: stays on the overlay
    assert m.rect == (0, 0, 640, 480)
    drag(m, (320, 480), (320, 5000))  # s handle below the bottom
    assert m.rect == (0, 0, 640, 480)


def test_minimum_size_while_resizing():
    m = selected()
    drag(m, (300, 150), (100, 150))  # e handle onto the left edge: never zero width
    assert m.rect == (100, 100, 101, 200) and not m.is_empty
    m = selected(min_size=10)
    drag(m, (200, 200), (200, 104))  # s handle to 4 px under the top edge -> 10 px, on its side
    assert m.rect == (100, 100, 300, 110)
    m = selected(min_size=10)
    drag(m, (200, 200), (200, 96))  # crossed by 4 px -> 10 px above the (now bottom) edge
    assert m.rect == (100, 90, 300, 100)
    m = selected((0, 0, 50, 40), min_size=10)
    drag(m, (0, 20), (48, 20))  # w handle to 2 px left of the right edge -> 10 px wide
    assert m.rect == (40, 0, 50, 40)
    m = selected((0, 0, 5, 40), min_size=10)
    drag(m, (0, 20), (-100, 20))  # no room for 10 px left of x=5: the selection goes to its right instead
    assert m.rect == (5, 0, 15, 40)


def test_move_and_new_selection_still_work_around_handles():
    m = selected()
    assert drag(m, (200, 150), (240, 180)) == "move"
    assert m.rect == (140, 130, 340, 230)
    assert drag(m, (500, 400), (600, 450)) == "new"
    assert m.rect == (500, 400, 600, 450)
    m.resize(-5, -5)  # the keyboard resize is unchanged
    assert m.rect == (500, 400, 595, 445)


def test_cursor_says_what_a_press_or_the_drag_does():
    m = selected()
    assert SelectionModel(640, 480).cursor_at(5, 5) == "crosshair"
    assert [m.cursor_at(*p) for p in m.handle_points().values()] == [
        "top_left_corner", "top_side", "top_right_corner", "right_side", "bottom_right_corner", "bottom_side",
        "bottom_left_corner", "left_side"]
    assert m.cursor_at(200, 150) == "fleur" and m.cursor_at(500, 400) == "crosshair"
    m.press(300, 200)
    assert m.grab == "se"
    m.drag(50, 60)  # crossed both opposite edges: the cursor follows the handle's new corner
    assert m.grab == "nw" and m.cursor_at(50, 60) == "top_left_corner"
    m.release(50, 60)
    assert m.rect == (50, 60, 100, 100)
    m.press(75, 80)
    assert m.grab == "move" and m.cursor_at(9999, 9999) == "fleur"  # stays while the move lasts
    m.release(75, 80)
    m.press(600, 20)
    assert m.grab == "new" and m.cursor_at(600, 20) == "crosshair"
    m.release(620, 40)
    assert m.grab is None
