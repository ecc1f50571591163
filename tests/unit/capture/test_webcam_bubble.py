"""The webcam bubble's parts without a display: where it goes, the disc, compositing into a BGRA frame, the change
hint, the per-OS camera input, and the file-fed camera reading a real video file."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.video_clips import write_clip
from tray.capture.errors import InvalidCaptureTarget
from tray.capture.webcam import Camera, camera_input
from tray.capture.webcam_bubble import BubbleCapture, WebcamSpec, composite, disc_alpha, webcam_from_settings


@pytest.mark.parametrize("corner, place", [("bottom-right", (534, 254, 90)), ("bottom-left", (16, 254, 90)),
                                           ("top-right", (534, 16, 90)), ("top-left", (16, 16, 90))])
def test_the_bubble_sits_in_its_corner(corner, place):
    assert WebcamSpec(corner=corner).place(640, 360) == place


def test_size_limits_and_a_moved_bubble_stays_inside():
    assert WebcamSpec().place(3840, 2160)[2] == 320  # a quarter of 2160, at most 320
    assert WebcamSpec().place(160, 100)[2] == 48  # at least 48
    assert WebcamSpec(size=200).place(160, 100) == (60, 0, 100)  # never larger than the frame
    assert WebcamSpec(position=(600, -20)).place(640, 360) == (550, 0, 90)
    with pytest.raises(ValueError, match="corner must be one of"):
        WebcamSpec(corner="middle")


def test_settings_and_their_overrides():
    class Capture:
        webcam, webcam_device, webcam_corner = False, "/dev/video2", "top-left"

    assert webcam_from_settings(Capture()) is None
    assert webcam_from_settings(Capture(), enabled=True) == WebcamSpec("/dev/video2", "top-left")
    Capture.webcam = True
    assert webcam_from_settings(Capture(), corner="bottom-left", device="file:x.webm") == \
        WebcamSpec("file:x.webm", "bottom-left")
    assert webcam_from_settings(Capture(), enabled=False) is None


def test_disc_and_compositing_in_bgra():
    a = disc_alpha(20)
    assert a[10, 10] == 256 and a[0, 0] == 0 and a[19, 19] == 0 and (a == a.T).all() and (a == a[::-1]).all()
    w, h = 40, 30
    frame = bytearray(bytes([10, 20, 30, 255]) * (w * h))
    picture = np.zeros((20, 20, 3), dtype=np.uint8)
    picture[:, :] = (200, 100, 0)  # RGB
    composite(frame, w, h, picture, 5, 4, a)
    px = np.frombuffer(bytes(frame), dtype=np.uint8).reshape(h, w, 4)
    assert px[14, 15].tolist() == [0, 100, 200, 255]  # BGRA: the picture's colour at the disc's centre
    assert px[4, 5].tolist() == [10, 20, 30, 255] and px[0, 0].tolist() == [10, 20, 30, 255]  # outside: the screen
    edge = px[14, 5]  # on the disc's edge: between the two
    assert 0 < edge[0] < 10 or 10 < edge[2] < 200


class Screen:
    """A ScreenCapture (the OS edge) showing one colour, with or without a DAMAGE-like change hint."""

    def __init__(self, hint: bool | None) -> None:
        self.hint, self.closed = hint, False
        if hint is not None:
            self.changed = lambda region: self.hint

    def grab(self, region):
        return 8, 8, bytes([1, 2, 3, 255]) * 64

    def close(self):
        self.closed = True


class StillCamera:
    def __init__(self) -> None:
        self.state, self.closed = (0, None), False

    def latest(self):
        return self.state

    def close(self):
        self.closed = True


def test_a_new_camera_picture_counts_as_a_change_and_close_closes_both():
    screen, camera = Screen(hint=False), StillCamera()
    bubble = BubbleCapture(screen, camera, WebcamSpec(size=4))
    assert bubble.changed(None)  # nothing grabbed yet
    w, h, data = bubble.grab(None)
    assert bytes(data) == bytes([1, 2, 3, 255]) * 64  # no picture yet: the screen as it is
    assert not bubble.changed(None)
    camera.state = (1, np.full((4, 4, 3), 250, dtype=np.uint8))
    assert bubble.changed(None)
    w, h, data = bubble.grab(None)
    frame = np.frombuffer(bytes(data), dtype=np.uint8).reshape(8, 8, 4)
    assert frame[4, 4].tolist() == [250, 250, 250, 255]  # bottom-right: 4 px at (2, 2), the margin at most half
    assert not bubble.changed(None)
    screen.hint = True
    assert bubble.changed(None)
    assert BubbleCapture(Screen(hint=None), camera, WebcamSpec()).changed(None)  # no hint: grab every tick
    bubble.close()
    assert screen.closed and camera.closed


def test_camera_input_per_os():
    assert camera_input("", "linux").url == "/dev/video0" and camera_input("", "linux").format == "v4l2"
    assert camera_input("/dev/video3", "linux").url == "/dev/video3"
    assert (camera_input("Integrated Camera", "win32").url, camera_input("Integrated Camera", "win32").format) == (
        "video=Integrated Camera", "dshow")
    with pytest.raises(InvalidCaptureTarget, match="name the camera on Windows"):
        camera_input("", "win32")
    assert (camera_input("", "darwin").url, camera_input("", "darwin").format) == ("0:none", "avfoundation")
    spec = camera_input("file:/tmp/cam.webm", "linux")
    assert (spec.url, spec.format, spec.looped) == ("/tmp/cam.webm", None, True)


def test_the_file_fed_camera_plays_the_file_in_a_loop_as_squares(tmp_path):
    rgb = np.zeros((80, 160, 3), dtype=np.uint8)
    rgb[:, :80], rgb[:, 80:] = (220, 30, 30), (30, 30, 220)  # left half red, right half blue
    path = write_clip(tmp_path / "cam.webm", [rgb] * 4, 20)  # 0.2 s
    camera = Camera(f"file:{path}", 40)
    camera.start()
    try:
        deadline = time.monotonic() + 20
        while camera.latest()[0] < 10 and time.monotonic() < deadline:  # more pictures than the file has: looped
            time.sleep(0.02)
        seq, picture = camera.latest()
        assert seq >= 10, f"only {seq} pictures in 20 s"
        assert picture.shape == (40, 40, 3)
        assert picture[20, 5][0] > 150 and picture[20, 34][2] > 150  # the centre square, not mirrored
    finally:
        camera.close()
    with pytest.raises(InvalidCaptureTarget, match="webcam 'file:/nonexistent.webm': cannot open"):
        Camera("file:/nonexistent.webm", 40).start()


@pytest.mark.parametrize("d", [20, 33, 90])
def test_the_fast_disc_draws_exactly_what_composite_draws(d):
    from tray.capture.webcam_bubble import Disc

    rng = np.random.default_rng(d)
    w, h, x, y = 120, 104, 7, 11
    screen = bytearray(rng.integers(0, 256, w * h * 4, dtype=np.uint8).tobytes())
    picture = rng.integers(0, 256, (d, d, 3), dtype=np.uint8)
    expected = bytearray(screen)
    composite(expected, w, h, picture, x, y, disc_alpha(d))
    Disc(d).draw(np.frombuffer(screen, dtype=np.uint8).reshape(h, w, 4), picture, x, y)
    assert screen == expected


class CountingScreen:
    """A still noisy screen (the OS edge) whose DAMAGE-like hint says "unchanged" after the first grab."""

    def __init__(self, w: int, h: int) -> None:
        self.w, self.h, self.grabs = w, h, 0
        self.pixels = np.random.default_rng(3).integers(0, 256, w * h * 4, dtype=np.uint8).tobytes()

    def changed(self, region):
        return self.grabs == 0

    def grab(self, region):
        self.grabs += 1
        return self.w, self.h, bytearray(self.pixels)

    def close(self):
        pass


@pytest.mark.parametrize("spec", [WebcamSpec(size=33, position=(13, 7)), WebcamSpec(size=40)],
                         ids=["odd-corner-and-size", "bottom-right"])
def test_a_new_picture_on_a_still_screen_is_drawn_without_a_grab_and_exactly_as_a_grab_would(spec):
    """refresh() redraws the bubble over the screen kept from the last grab and converts only its square: the frame
    is byte for byte the full conversion of the screen with the new picture, and no grab is made."""
    from tray.capture.yuv import make_converter

    w, h = 96, 64
    screen, camera = CountingScreen(w, h), StillCamera()
    convert = make_converter(w, h)
    bubble = BubbleCapture(screen, camera, spec)
    rng = np.random.default_rng(5)
    camera.state = (1, rng.integers(0, 256, (spec.size, spec.size, 3), dtype=np.uint8))
    assert bubble.changed(None)
    _, _, last = bubble.grab(None)
    frame = convert(w, h, last)
    assert bubble.refresh(last, frame) is None  # no new picture: nothing to draw
    for seq in (2, 3):
        camera.state = (seq, rng.integers(0, 256, (spec.size, spec.size, 3), dtype=np.uint8))
        assert not bubble.changed(None)  # still screen: no grab asked for, the picture is refreshed
        before = frame
        frame = bubble.refresh(last, frame)
        assert frame is not None and frame is not before and screen.grabs == 1
        expected = bytearray(screen.pixels)
        x, y, d = spec.place(w, h)
        composite(expected, w, h, camera.state[1], x, y, disc_alpha(d))
        assert last == expected  # the picture of the returned frame
        want = convert(w, h, expected)
        for got, ref in zip(frame.planes, want.planes):
            assert bytes(got) == bytes(ref)
    assert bubble.refreshes == 2


def test_the_file_camera_publishes_at_most_15_pictures_a_second_on_the_pictures_time_grid(tmp_path):
    """One pass over a 1 s clip whose pictures' shade is their index (a clock far ahead: no waiting): a 30 fps MJPEG
    camera (intra-only: the skipped pictures are not even decoded) gives every other picture, a 25 fps VP9 one 15
    of its 25 (at 0, 0.08, 0.16, 0.2 ... 0.96 s)."""
    for codec, pix_fmt, fps, last in (("mjpeg", "yuvj420p", 30, 28), ("libvpx-vp9", "yuv420p", 25, 24)):
        path = write_clip(tmp_path / f"cam-{codec}.mkv",
                          [np.full((48, 64, 3), 8 * i, dtype=np.uint8) for i in range(fps)], fps,
                          codec=codec, pix_fmt=pix_fmt)
        ticks = iter(range(0, 10**9, 1000))
        camera = Camera(f"file:{path}", 16, clock=lambda ticks=ticks: float(next(ticks)))
        container = camera._open()
        try:
            camera._read(container)
        finally:
            container.close()
        seq, picture = camera.latest()
        assert (seq, round(int(picture[8, 8, 0]) / 8)) == (15, last), (codec, seq, picture[8, 8])


def test_a_scaled_output_asks_for_a_grab_for_each_new_picture():
    """A grab of another size than the recorded frames (the converter scales): the square cannot be pasted, so a new
    picture makes changed() say "changed" (a grab draws it) instead of being redrawn."""
    from tray.capture.yuv import make_converter

    screen, camera = CountingScreen(96, 64), StillCamera()
    bubble = BubbleCapture(screen, camera, WebcamSpec(size=20))
    camera.state = (1, np.zeros((20, 20, 3), dtype=np.uint8))
    _, _, last = bubble.grab(None)
    frame = make_converter(48, 32)(96, 64, last)  # recorded at half the grab's size
    camera.state = (2, np.full((20, 20, 3), 200, dtype=np.uint8))
    assert not bubble.changed(None) and bubble.refresh(last, frame) is None
    assert bubble.changed(None) and screen.grabs == 1
    bubble.grab(None)
    camera.state = (3, np.full((20, 20, 3), 100, dtype=np.uint8))
    assert bubble.changed(None) and bubble.refreshes == 0
