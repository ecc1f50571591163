"""Still-screen recording with X DAMAGE (issue 21 goal 2), end to end: a private Xvfb, real mss grabs, the real
DAMAGE watch, real libvpx-vp9, the file decoded with PyAV.

The screen is a black override-redirect window; the tests change it (one pixel) or move only the pointer while the
recorder runs on a fake clock (``FakeTime``: virtual time advances at each of the capture thread's sleeps, the encoder
drains the queue first), so which deadline sees a change is deterministic. Changes happen at t = 1.45 s, between
safety grabs (t = 1.0, 2.0 s), so a change seen before t = 2.0 s was seen by the DAMAGE watch or the pointer, not by
the once-a-second safety grab.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tray_platform.base import Region

from tray.capture.recorder import Recorder
from tests.procutil import need_tool, start_xvfb, stop_process, wait_until
from tests.unit.capture.test_capture_unit import FakeTime

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")
np = pytest.importorskip("numpy")

W, H = 320, 240
FPS = 10
CHANGE_AT = 1.45  # s after the start: between the safety grabs at 1.0 and 2.0 s


class BlackScreen:
    """A black window covering a private Xvfb, drawn on through its own python-xlib connection."""

    def __init__(self, display: str) -> None:
        from Xlib import X
        from Xlib import display as xdisplay

        self.name = display
        self.d = xdisplay.Display(display)
        root = self.d.screen().root
        self.window = root.create_window(0, 0, W, H, 0, X.CopyFromParent, background_pixel=0,
                                         override_redirect=True)
        self.window.map()
        self.gc = self.window.create_gc(foreground=0xFFFFFF)
        self.d.sync()

    def reset(self) -> None:
        self.window.clear_area(0, 0, W, H)
        self.d.screen().root.warp_pointer(W - 1, H - 1)
        self.d.sync()

    def pixel(self, x: int, y: int) -> None:
        from Xlib import X

        self.window.poly_point(self.gc, X.CoordModeOrigin, [(x, y)])
        self.d.sync()

    def paint(self, x: int, y: int, rgb) -> None:
        """Put the pixels ``rgb`` (numpy, h x w x 3) at (x, y)."""
        from Xlib import X

        h, w = rgb.shape[:2]
        bgrx = np.zeros((h, w, 4), dtype=np.uint8)
        bgrx[:, :, :3] = rgb[:, :, ::-1]
        for r in range(0, h, 32):  # a request stays well under the 256 KiB limit
            part = bgrx[r:r + 32]
            self.window.put_image(self.gc, x, y + r, w, part.shape[0], X.ZPixmap, 24, 0, part.tobytes())
        self.d.sync()

    def warp(self, x: int, y: int) -> None:
        self.d.screen().root.warp_pointer(x, y)
        self.d.sync()

    def close(self) -> None:
        self.d.close()


@pytest.fixture(scope="module")
def black_screen():
    need_tool("Xvfb")
    proc, display = start_xvfb(W, H)
    screen = BlackScreen(display)
    yield screen
    screen.close()
    stop_process(proc)


def record(screen: BlackScreen, path: Path, *, seconds: float, cursor: bool, actions: dict[float, object],
           region: Region = Region(0, 0, W, H), options=None):
    """Record ``region`` (the whole screen) for ``seconds`` of fake time; ``actions[t]()`` runs once the clock passes
    t; ``options(fake_time)``: more arguments for the Recorder."""
    from tray_platform.linux.capture import X11ScreenCapture
    from tray_platform.linux.display import X11DisplayInfo

    ft = FakeTime()
    start = ft.now
    pending = dict(sorted(actions.items()))

    def on_sleep(now: float) -> None:
        for t in [t for t in pending if now - start >= t - 1e-9]:
            pending.pop(t)()
            time.sleep(0.02)  # lets the server's events reach the watch's socket (a late one counts a tick later)

    ft.on_sleep = on_sleep
    rec = Recorder(path, region=region, fps=FPS, bitrate=4_000_000, cursor=cursor,
                   max_duration=seconds, display_info=X11DisplayInfo(display=screen.name),
                   capture_factory=lambda: X11ScreenCapture(display=screen.name, with_cursor=cursor),
                   clock=ft.clock, sleeper=ft.sleep, **(options(ft) if options else {}))
    ft.recorder = rec
    rec.start()
    assert rec.wait(60), "recording did not end"
    assert rec.result is not None and rec.result.error is None
    assert not pending, f"actions never ran: {list(pending)}"
    return rec.result


def decoded(path: Path) -> list[tuple[float, object]]:
    """(pts in s, luma plane as a numpy array) of every frame."""
    with av.open(str(path)) as c:
        return [(float(f.pts * f.time_base), f.to_ndarray(format="gray"))
                for f in c.decode(c.streams.video[0])]


def frame_at(frames, t: float):
    """The frame on screen at time ``t`` (the last one with pts <= t)."""
    return [img for pts, img in frames if pts <= t + 1e-6][-1]


def test_a_single_changed_pixel_is_recorded_at_the_next_deadline(black_screen, tmp_path):
    black_screen.reset()
    result = record(black_screen, tmp_path / "pixel.webm", seconds=3.0, cursor=False,
                    actions={CHANGE_AT: lambda: black_screen.pixel(123, 77)})
    s = result.stats
    assert s.grabs_skipped_unchanged > 0.7 * s.ticks, s  # the still screen was mostly not grabbed
    frames = decoded(tmp_path / "pixel.webm")
    assert frame_at(frames, CHANGE_AT - 0.1)[77, 123] < 40  # black before
    # the next deadline (1.5 s) grabbed it: long before the safety grab at 2.0 s
    shown = [pts for pts, img in frames if img[76:79, 122:125].max() > 100]
    assert shown and CHANGE_AT < shown[0] <= CHANGE_AT + 0.1 + 1e-6, [pts for pts, _ in frames]
    assert frame_at(frames, 2.9)[76:79, 122:125].max() > 100  # and stays


def test_only_the_cursor_moving_is_recorded(black_screen, tmp_path):
    black_screen.reset()
    black_screen.warp(60, 60)
    result = record(black_screen, tmp_path / "cursor.webm", seconds=3.0, cursor=True,
                    actions={CHANGE_AT: lambda: black_screen.warp(220, 160)})
    s = result.stats
    assert s.grabs_skipped_unchanged > 0.7 * s.ticks, s
    frames = decoded(tmp_path / "cursor.webm")

    def cursor_near(img, x: int, y: int) -> bool:  # the drawn cursor has white pixels around its hot spot
        return img[max(0, y - 20):y + 20, max(0, x - 20):x + 20].max() > 100

    before = frame_at(frames, CHANGE_AT - 0.1)
    assert cursor_near(before, 60, 60) and not cursor_near(before, 220, 160)
    moved = [pts for pts, img in frames if cursor_near(img, 220, 160) and not cursor_near(img, 60, 60)]
    assert moved and CHANGE_AT < moved[0] <= CHANGE_AT + 0.1 + 1e-6, [pts for pts, _ in frames]


def test_a_still_screen_keeps_a_frame_every_second_without_grabbing_every_deadline(black_screen, tmp_path):
    black_screen.reset()
    result = record(black_screen, tmp_path / "still.webm", seconds=3.5, cursor=True, actions={})
    s = result.stats
    grabs = s.ticks - s.grabs_skipped_unchanged
    assert grabs <= 5, s  # t = 0, 1, 2, 3 (safety grabs; the keep-alive frames)
    pts = [p for p, _ in decoded(tmp_path / "still.webm")]
    assert pts[0] == 0.0 and pts[-1] >= 3.0
    gaps = [b - a for a, b in zip(pts, pts[1:])]
    assert max(gaps) <= 1.0 + 1e-6, pts  # >= 1 frame per second in the file


def test_without_damage_every_deadline_is_grabbed(black_screen, tmp_path, monkeypatch):
    monkeypatch.setenv("SNAPLARK_X11_DAMAGE", "0")  # the switch, and today's behaviour where DAMAGE is missing
    black_screen.reset()
    result = record(black_screen, tmp_path / "nodamage.webm", seconds=1.0, cursor=False, actions={})
    s = result.stats
    assert s.grabs_skipped_unchanged == 0 and s.ticks == FPS and s.frames_skipped_identical == FPS - 1, s


def test_a_busy_screen_is_not_asked_about_at_every_deadline_and_a_still_one_is_again(black_screen):
    from tray_platform.linux import x11_damage

    black_screen.reset()
    watch = x11_damage.open_damage_watch(black_screen.name, cursor=False)
    region = Region(0, 0, W, H)
    try:
        assert watch.changed(region)  # the damage of the reset
        assert not watch.changed(region)  # still: no streak
        watch.checks = 0
        answers = []
        for n in range(60):  # the screen changes before every deadline
            black_screen.pixel(n % W, 10)
            wait_until(watch._display.pending_events, 10, "the DamageNotify")  # read, not taken from the queue
            answers.append(watch.changed(region))
        busy = x11_damage.BUSY_AFTER
        assert all(answers)  # every deadline grabbed
        assert watch.checks == busy + 1  # 30 asked, then 15 answered unasked, one asked, 14 unasked
        # the screen stops: what is left of the unasked stretch, the check that finds the last changes, one more
        # unasked stretch, then the watch answers False again
        skip = x11_damage.BUSY_SKIP
        still = [watch.changed(region) for _ in range(4 * skip)]
        assert still[:2] == [True, True] and not any(still[2 * skip + 1:])
    finally:
        watch.close()


def decoded_yuv(path: Path) -> list[tuple[float, object]]:
    """(pts in s, the yuv420p planes as one numpy array) of every frame."""
    with av.open(str(path)) as c:
        return [(float(f.pts * f.time_base), f.to_ndarray(format="yuv420p"))
                for f in c.decode(c.streams.video[0])]


@pytest.mark.parametrize("region", [Region(0, 0, W, H), Region(37, 21, 240, 180)], ids=["screen", "offset-region"])
def test_only_the_damaged_rectangles_are_converted_and_the_video_is_the_same(black_screen, tmp_path, monkeypatch,
                                                                             region):
    """Small changes (odd corners, 1 pixel, at the screen's and the region's edges, across the region's border) on a
    noisy background: recorded with damage conversion and with whole conversions (the switch off), the two files
    decode to the same bytes, and the first really converted only rectangles."""
    rng = np.random.default_rng(7)
    background = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    changes = [(33, 17, 5, 3), (1, 1, 1, 1), (W - 3, H - 2, 3, 2), (101, 57, 40, 21), (30, 15, 20, 30),
               (270, 190, 30, 30), (150, 120, 1, 1)]
    paints = [(x, y, rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for x, y, w, h in changes]
    paints[-2] = (270, 190, np.full((30, 30, 3), (230, 40, 90), dtype=np.uint8))  # solid: checked in the file
    actions = {0.35 + 0.3 * i: (lambda p=p: black_screen.paint(*p)) for i, p in enumerate(paints)}
    results = {}
    for mode in ("1", "0"):
        monkeypatch.setenv("SNAPLARK_DAMAGE_CONVERT", mode)
        black_screen.reset()
        black_screen.paint(0, 0, background)
        results[mode] = record(black_screen, tmp_path / f"convert{mode}.webm", seconds=2.6, cursor=False,
                               actions=dict(actions), region=region)
    assert results["0"].stats.frames_converted_partial == 0
    # the changes in the region (7 or 5) but the first (no shadow yet) and the whole conversions once a second
    assert results["1"].stats.frames_converted_partial >= 3, results["1"].stats
    partial, whole = decoded_yuv(tmp_path / "convert1.webm"), decoded_yuv(tmp_path / "convert0.webm")
    assert [p for p, _ in partial] == [p for p, _ in whole]
    for (pts, a), (_, b) in zip(partial, whole):
        assert np.array_equal(a, b), f"frame at {pts} s differs in {np.count_nonzero(a != b)} bytes"
    # and the file shows the last change (VP9 is lossy: near the painted mean)
    x, y, _ = paints[-2]
    last = frame_at(decoded(tmp_path / "convert1.webm"), 2.5)
    rx, ry = x - region.left, y - region.top
    luma = (230 * 0.299 + 40 * 0.587 + 90 * 0.114) * 219 / 255 + 16
    cut = last[ry + 2:ry + 28, rx + 2:rx + 28]  # (inside the region: a corner of it in the offset one)
    assert cut.size and abs(float(cut.mean()) - luma) < 6, (cut.mean(), luma)


def test_a_change_read_after_a_grab_still_makes_the_next_deadline_grab(black_screen):
    """damaged() is asked right after a grab; drawing done between the grab and that call is read there, and only the
    next grab shows it: changed() must not answer False at that deadline."""
    from tray_platform.linux import x11_damage

    black_screen.reset()
    watch = x11_damage.open_damage_watch(black_screen.name, cursor=False)
    region = Region(10, 10, 100, 100)
    try:
        assert watch.damaged(region) is None  # the first call: unknown
        assert watch.changed(region) in (True, False) and watch.damaged(region) == []
        assert not watch.changed(region)
        black_screen.pixel(50, 60)  # "after the grab"
        assert watch.damaged(region) == [(40, 50, 1, 1)]  # relative to the region
        assert watch.changed(region)  # the next deadline grabs
        assert not watch.changed(region)
        black_screen.pixel(200, 200)  # outside the region
        assert watch.damaged(region) == [] and not watch.changed(region)
    finally:
        watch.close()
