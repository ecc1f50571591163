"""The webcam bubble on a still screen (issue 19, its CPU): a new camera picture is drawn without grabbing the
screen, and the recording is the same as with a grab for every picture.

A private Xvfb (the black window of test_recording_damage_e2e), real mss grabs, the real X DAMAGE watch, real
libvpx-vp9, the file decoded with PyAV, on the fake clock of that module. The camera (the OS edge) shows, at fake time
t, picture k = floor(15 t + 1/4), its left and right halves coloured by k -- a 15 fps camera whose pictures change
at every 10 fps deadline. The screen is still but for two patches painted at 1.45 s: one in the corner of the
bubble's square (outside the disc), one elsewhere.
"""

from __future__ import annotations

import pytest

from tests.e2e.capture.test_recording_damage_e2e import (FPS, H, W, black_screen, decoded_yuv,  # noqa: F401
                                                         record)
from tray.capture.webcam_bubble import WebcamSpec

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")
np = pytest.importorskip("numpy")

PALETTE = [((230, 40, 40), (40, 40, 230)), ((240, 220, 40), (30, 200, 60)), ((220, 50, 200), (250, 250, 250))]
SPEC = WebcamSpec(size=64)  # bottom-right: the disc's square at (240, 160), 16 px from the edges
X0, Y0, D = SPEC.place(W, H)
CHANGE_AT = 1.45
PATCHES = [(X0, Y0, (250, 140, 0)), (50, 40, (0, 200, 255))]  # 6x6 each; the first in the square, not the disc


class ClockCamera:
    """A webcam on the fake clock: ``latest()`` is picture k = floor(15 t + 1/4), t = fake seconds since start()."""

    def __init__(self, fake_time, size: int) -> None:
        self.ft, self.size, self.t0, self.closed = fake_time, size, None, False
        self._pictures: dict[int, np.ndarray] = {}

    def start(self) -> None:
        self.t0 = self.ft.now

    def latest(self):
        k = index_at(self.ft.now - self.t0)
        if k not in self._pictures:
            rgb = np.zeros((self.size, self.size, 3), dtype=np.uint8)
            rgb[:, :self.size // 2], rgb[:, self.size // 2:] = PALETTE[k % len(PALETTE)]
            self._pictures = {k: rgb}  # the same array while it is the latest, as a camera's
        return k + 1, self._pictures[k]

    def close(self) -> None:
        self.closed = True


def index_at(t: float) -> int:
    return int(15 * t + 0.25)


def near(pixel, rgb, tol: int) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, rgb))


def test_a_still_screen_is_not_grabbed_for_camera_pictures_and_the_video_is_what_grabs_give(
        black_screen, tmp_path, monkeypatch):  # noqa: F811
    def paint() -> None:
        for x, y, rgb in PATCHES:
            black_screen.paint(x, y, np.full((6, 6, 3), rgb, dtype=np.uint8))

    def run(name: str):
        black_screen.reset()
        return record(black_screen, tmp_path / f"{name}.webm", seconds=3.0, cursor=False,
                      actions={CHANGE_AT: paint},
                      options=lambda ft: {"webcam": SPEC, "camera_factory": lambda device, d: ClockCamera(ft, d)})

    still = run("damage")
    monkeypatch.setenv("SNAPLARK_X11_DAMAGE", "0")  # a grab at every deadline: each picture drawn into a grab
    grabbed = run("grabs")
    s = still.stats
    grabs = s.ticks - s.grabs_skipped_unchanged - s.frames_redrawn
    # grabs: the first deadline, the change (1.5 s), the safety grabs (1 s, 2 s, 3 s); the other pictures: redrawn
    assert grabs <= 6 and s.frames_redrawn >= s.ticks - 6 and s.frames_queued == s.ticks, s
    assert grabbed.stats.frames_redrawn == 0 and grabbed.stats.grabs_skipped_unchanged == 0, grabbed.stats
    # the same frames, byte for byte (the bubble's square converted alone gives the bytes a whole conversion gives)
    a, b = decoded_yuv(tmp_path / "damage.webm"), decoded_yuv(tmp_path / "grabs.webm")
    assert [p for p, _ in a] == [p for p, _ in b] and len(a) == FPS * 3
    for (pts, x), (_, y) in zip(a, b):
        assert np.array_equal(x, y), f"frame at {pts} s differs in {np.count_nonzero(x != y)} bytes"
    # and the pixels: the bubble follows the camera at every frame, the painted patches appear at the change
    with av.open(str(tmp_path / "damage.webm")) as c:
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in c.decode(c.streams.video[0])]
    cy = Y0 + D // 2
    for pts, rgb in frames:
        left, right = PALETTE[index_at(pts) % len(PALETTE)]
        assert near(rgb[cy, X0 + D // 4], left, 40) and near(rgb[cy, X0 + 3 * D // 4], right, 40), \
            (pts, rgb[cy, X0 + D // 4], rgb[cy, X0 + 3 * D // 4])
        for x, y, colour in PATCHES:
            shown = near(rgb[y + 3, x + 3], colour, 40)
            assert shown == (pts > CHANGE_AT), (pts, (x, y), rgb[y + 3, x + 3])
        assert rgb[Y0 + D - 3, X0 + 3].max() < 40  # the square's other corners: the (black) screen
