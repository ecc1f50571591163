"""Region-selector geometry (tray/ui/selector.py SelectionModel): no display needed."""

from tray.ui.selector import SelectionModel, monitors_to_overlay
from tray_platform.base import Monitor, Region


def test_drag_in_any_direction_normalises():
    m = SelectionModel(1000, 800)
    m.press(300, 250)
    m.drag(100, 120)
    m.release(100, 120)
    assert m.rect == (100, 120, 300, 250) and m.size == (200, 130)
    assert m.to_region((0, 0), 1.0) == Region(100, 120, 200, 130)


def test_drag_is_clamped_to_the_overlay():
    m = SelectionModel(640, 480)
    m.press(600, 400)
    m.release(900, -50)
    assert m.rect == (600, 0, 640, 400)


def test_zero_size_has_no_region():
    m = SelectionModel(640, 480)
    assert m.to_region((0, 0), 1.0) is None and m.is_empty
    m.press(10, 10)
    m.release(10, 10)
    assert m.is_empty and m.to_region((0, 0), 1.0) is None
    m.press(10, 10)
    m.release(50, 10)  # zero height
    assert m.to_region((0, 0), 1.0) is None


def test_press_inside_moves_within_bounds():
    m = SelectionModel(640, 480)
    m.press(100, 100)
    m.release(200, 150)
    assert m.press(150, 120) == "move"
    m.drag(170, 130)
    assert m.rect == (120, 110, 220, 160)
    m.release(1000, 1000)  # cannot leave the overlay
    assert m.rect == (540, 430, 640, 480)
    assert m.press(10, 10) == "new" and m.rect == (10, 10, 10, 10)


def test_nudge_and_resize():
    m = SelectionModel(300, 200)
    m.nudge(5, 5)  # nothing selected: no-op
    assert m.rect is None
    m.press(10, 10)
    m.release(50, 40)
    m.nudge(-20, 3)
    assert m.rect == (0, 13, 40, 43)
    m.resize(5, -50)
    assert m.rect == (0, 13, 45, 13) and m.is_empty
    m.resize(1000, 1000)
    assert m.rect == (0, 13, 300, 200)


def test_monitor_under_cursor_with_negative_origin_and_scale():
    # a 2x left monitor at negative x and a 1x right monitor (physical coordinates)
    origin = (-2560, 0)
    monitors = [Monitor(0, Region(-2560, 0, 2560, 1440), scale=2.0), Monitor(1, Region(0, 0, 1920, 1080), primary=True)]
    rects = monitors_to_overlay(monitors, origin, 2.0)
    assert rects == [(0, 0, 1280, 720), (1280, 0, 2240, 540)]
    m = SelectionModel(2240, 720, rects)
    assert m.select_monitor_at(1500, 100)
    assert m.to_region(origin, 2.0) == Region(0, 0, 1920, 1080)
    assert m.select_monitor_at(5, 5)
    assert m.to_region(origin, 2.0) == Region(-2560, 0, 2560, 1440)
    assert not m.select_monitor_at(1500, 700)  # below the shorter right monitor: no monitor there


def test_region_scaled_to_physical_pixels():
    m = SelectionModel(1280, 720)
    m.press(100, 50)
    m.release(400, 250)
    assert m.to_region((0, 0), 2.0) == Region(200, 100, 600, 400)
    assert m.to_region((10, -20), 1.5) == Region(160, 55, 450, 300)


def test_crop_to_region_uses_physical_pixels_and_origin():
    import pytest
    from PIL import Image

    from tray.ui.selector import crop_to_region

    frozen = Image.new("RGB", (400, 300), (0, 0, 0))
    frozen.putpixel((150, 120), (255, 0, 0))
    out = crop_to_region(frozen, Region(-50, 20, 10, 10), origin=(-200, -100))
    assert out.size == (10, 10) and out.getpixel((0, 0)) == (255, 0, 0)
    with pytest.raises(ValueError):
        crop_to_region(frozen, Region(150, 150, 100, 100), origin=(-200, -100))
