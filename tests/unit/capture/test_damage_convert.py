"""tray.capture.damage_convert: converting only the damaged rectangles gives the very bytes of a full conversion.

Real swscale (PyAV), real numpy; the "screen" is a random BGRA picture changed in random rectangles (edges, odd
corners, 1-pixel ones) that are reported as damage, as the X11 backend reports them (relative to the region).
"""

from __future__ import annotations

import pytest

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")

from tray.capture import damage_convert  # noqa: E402
from tray.capture.damage_convert import DamageConverter, plane_arrays  # noqa: E402
from tray.capture.yuv import make_converter  # noqa: E402


@pytest.fixture(autouse=True)
def swscale_only(monkeypatch):
    monkeypatch.delenv("SNAPLARK_LIBYUV", raising=False)
    monkeypatch.setenv(damage_convert.ENV_SWITCH, "1")


def full_planes(img):
    h, w = img.shape[:2]
    frame = make_converter(w, h)(w, h, img.tobytes())
    return [p.copy() for p in plane_arrays(frame)]


def assert_same(frame, img):
    got = plane_arrays(frame)
    for name, a, b in zip("YUV", got, full_planes(img)):
        assert a.shape == b.shape and np.array_equal(a, b), f"{name} plane differs at {np.argwhere(a != b)[:5]}"


def random_rect(rng, w, h):
    kind = rng.integers(0, 4)
    if kind == 0:  # one pixel, anywhere (edges included)
        return int(rng.integers(0, w)), int(rng.integers(0, h)), 1, 1
    if kind == 1:  # touching an edge
        rw, rh = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        return (w - rw if rng.integers(0, 2) else 0), (h - rh if rng.integers(0, 2) else 0), rw, rh
    x, y = int(rng.integers(0, w - 1)), int(rng.integers(0, h - 1))
    return x, y, int(rng.integers(1, w - x + 1)) // (1 if kind == 2 else 8) or 1, int(rng.integers(1, 30))


@pytest.mark.parametrize("size", [(320, 240), (1280, 720)])
def test_random_damaged_rectangles_give_the_bytes_of_a_full_conversion(size):
    w, h = size
    rng = np.random.default_rng(w)
    img = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    conv = DamageConverter(make_converter(w, h))
    conv.damage(None)
    assert_same(conv(w, h, img.tobytes()), img)  # the first frame: whole
    for step in range(40):
        rects = [random_rect(rng, w, h) for _ in range(int(rng.integers(1, 5)))]
        for x, y, rw, rh in rects:
            part = img[y:y + rh, x:x + rw]  # (a rectangle may reach past the frame: reported clipped to it)
            part[:] = rng.integers(0, 256, part.shape, dtype=np.uint8)
        conv.damage(rects)
        assert_same(conv(w, h, img.tobytes()), img)
    assert conv.frames_partial >= 10  # the rectangles were converted, not the frames
    assert conv.pixels_converted < 0.5 * 40 * w * h


def test_a_small_change_inside_a_big_reported_box_converts_only_around_the_change():
    """X clients often report one bounding box (Tk's canvas redraws one): the pixels decide what is converted."""
    w, h = 640, 480
    img = np.zeros((h, w, 4), dtype=np.uint8)
    img[:, :, 1] = np.arange(w, dtype=np.uint8)[None, :]
    conv = DamageConverter(make_converter(w, h))
    conv.damage([(0, 0, w, h // 2)])
    conv(w, h, img.tobytes())  # no shadow yet: whole, then kept
    img[100:103, 301:305] = (0, 0, 255, 255)
    conv.damage([(3, 5, 600, 400)])
    assert_same(conv(w, h, img.tobytes()), img)
    assert conv.frames_partial == 1
    assert conv.pixels_converted == damage_convert.W_STEP * damage_convert.BAND_H


def test_damage_reported_late_is_converted_when_it_comes():
    w, h = 320, 240
    img = np.full((h, w, 4), 60, dtype=np.uint8)
    conv = DamageConverter(make_converter(w, h))
    conv.damage([])
    conv(w, h, img.tobytes())
    before = img.copy()
    img[10:20, 10:20] = 200  # drawn, but its report is not in yet
    conv.damage([(200, 200, 4, 4)])
    assert_same(conv(w, h, img.tobytes()), before)  # not reported, not seen (yet)
    conv.damage([(10, 10, 10, 10)])  # the late report: the shadow still has the old pixels there
    assert_same(conv(w, h, img.tobytes()), img)


def noise_converter(seed: int, w: int = 320, h: int = 240):
    """A converter that has converted one noise grab whole: (w, h, rng, the grab, converter, first frame)."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    conv = DamageConverter(make_converter(w, h))
    conv.damage([])
    return w, h, rng, img, conv, conv(w, h, img.tobytes())


def test_frames_handed_out_never_change_and_the_safety_and_unknown_damage_convert_whole():
    w, h, _, img, conv, first = noise_converter(5)
    kept = [p.copy() for p in plane_arrays(first)]
    img[0:50, 0:50] = 0
    conv.damage([(0, 0, 50, 50)])
    second = conv(w, h, img.tobytes())
    assert second is not first and all(np.array_equal(a, b) for a, b in zip(plane_arrays(first), kept))
    assert conv.frames_partial == 1
    img[100:110, 100:110] = 255  # unreported ...
    conv.damage([])
    assert_same(conv(w, h, img.tobytes(), full=True), img)  # ... but the safety conversion is whole
    img[200:210, 0:10] = 7
    conv.damage(None)  # unknown
    assert_same(conv(w, h, img.tobytes()), img)
    assert conv.frames_full == 3 and conv.frames_partial == 1


def test_a_frame_that_changed_mostly_is_converted_whole_and_the_compare_rests_a_while():
    w, h, rng, img, conv, _ = noise_converter(9)
    img[:200] = rng.integers(0, 256, (200, w, 4), dtype=np.uint8)
    conv.damage([(0, 0, w, 200)])
    assert_same(conv(w, h, img.tobytes()), img)
    assert conv.frames_full == 2 and conv.frames_partial == 0
    for _ in range(damage_convert.RETRY_AFTER):
        img[0:2, 0:2] += 1
        conv.damage([(0, 0, 2, 2)])
        assert_same(conv(w, h, img.tobytes()), img)
    assert conv.frames_partial == 0  # resting: whole, no shadow kept (no 4 bytes/pixel copy)
    img[0:2, 0:2] += 1
    conv.damage([(0, 0, 2, 2)])
    assert_same(conv(w, h, img.tobytes()), img)
    assert conv.frames_partial == 1


@pytest.mark.parametrize("size", [(321, 240), (320, 241)])
def test_odd_sizes_are_always_converted_whole(size):
    w, h = size
    img = np.full((h, w, 4), 30, dtype=np.uint8)
    conv = DamageConverter(make_converter(w, h))
    for k in range(3):
        img[5:9, 5:9] = 100 + k
        conv.damage([(5, 5, 4, 4)])
        assert_same(conv(w, h, img.tobytes()), img)
    assert conv.frames_partial == 0


def test_it_is_opt_in_and_libyuv_turns_it_off(monkeypatch):
    assert damage_convert.enabled()  # the fixture asked for it
    monkeypatch.setenv(damage_convert.ENV_SWITCH, "0")
    assert not damage_convert.enabled()
    monkeypatch.delenv(damage_convert.ENV_SWITCH)
    assert not damage_convert.enabled()  # off unless asked for: see the module docstring for the figures


def test_drawing_reported_right_after_a_grab_that_does_not_show_it_is_converted_at_the_next_grab():
    """The backend is asked right after the grab: a report can name drawing done after the grab (its round trip
    comes later), which only the next grab shows, when nothing reports it again."""
    w, h = 320, 240
    img = np.full((h, w, 4), 90, dtype=np.uint8)
    conv = DamageConverter(make_converter(w, h))
    conv.damage([])
    conv(w, h, img.tobytes())
    conv.damage([(40, 40, 8, 8)])  # drawn after this grab: the grab still shows the old pixels
    assert_same(conv(w, h, img.tobytes()), img)
    img[40:48, 40:48] = 250
    conv.damage([])  # ... and the next grab shows it, with nothing new reported
    assert_same(conv(w, h, img.tobytes()), img)
    assert conv.frames_partial == 1  # (the first: nothing differed, the last frame handed out again)
