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
