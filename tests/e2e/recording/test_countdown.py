"""Issue 12 #2: with ``capture.countdown = 3`` the app showed "● 00:00" for 3 s, which looks like recording.

Now a 3-2-1 in big digits is shown centred on the region, before anything is recorded (so never in the video);
Esc cancels it and nothing is left behind; the control bar appears when recording really starts, at 00:00.
Screenshots: test-artifacts/recording/countdown-3.png, countdown-2.png, countdown-1.png.
"""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from recording_helpers import (block_differences, decode_frames, grab_screen, near_colour, pump, pump_until,
                               read_digit, tiles_of_colour)
from tray_platform.base import Region

pytestmark = pytest.mark.e2e

REGION = Region(200, 100, 480, 300)  # even: recorded as is
OVERLAY_BG = (32, 32, 32)  # the countdown square's colour (#202020)


def countdown_square(screen: np.ndarray, region: Region) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of the overlay-coloured pixels inside ``region``; None if none."""
    crop = screen[region.top:region.bottom, region.left:region.right]
    ys, xs = np.nonzero(near_colour(crop, OVERLAY_BG, 0))
    if len(xs) < 1000:
        return None
    return (region.left + xs.min(), region.top + ys.min(), region.left + xs.max() + 1, region.top + ys.max() + 1)


def recordings(app) -> list:
    folder = app.settings.upload.resolved_save_dir()
    return sorted(folder.glob("recording-*")) if folder.exists() else []


def bar_area_below(region: Region) -> tuple[slice, slice]:
    """Where a control bar below the region would be (rows, columns)."""
    return slice(region.bottom + 4, region.bottom + 40), slice(region.left, region.left + 300)


def test_countdown_shows_big_digits_on_the_region_and_the_clock_starts_at_zero(make_app, pattern_screen,
                                                                             artifacts):
    app = make_app(countdown=3)
    ref = pattern_screen.reference
    t0 = time.monotonic()
    app.recordings.start(REGION, pattern_screen.region)  # what the selector's confirm calls
    seen = {}
    for digit, at in (("3", 0.45), ("2", 1.45), ("1", 2.45)):
        pump(app.root, t0 + at - time.monotonic())
        shot = grab_screen(artifacts / f"countdown-{digit}.png")
        box = countdown_square(shot, REGION)
        assert box is not None, f"{at} s into the countdown: no countdown shown over the region"
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        assert abs(cx - (REGION.left + REGION.width / 2)) <= 2 and abs(cy - (REGION.top + REGION.height / 2)) <= 2, \
            f"countdown square {box} is not centred on {REGION}"
        assert box[2] - box[0] >= 150, f"countdown square {box} is not big"
        seen[digit] = read_digit(shot[box[1]:box[3], box[0]:box[2]])
        assert seen[digit][0] == digit and seen[digit][1] > 0.75, \
            f"{at} s into the countdown the screen shows {seen[digit]}, expected the digit {digit}"
        rows, cols = bar_area_below(REGION)
        assert np.array_equal(shot[rows, cols], ref[rows, cols]), \
            f"{at} s into the countdown a control bar is shown (it reads like a recording at 00:00)"
        assert recordings(app) == [], f"{at} s into the countdown a recording file already exists"

    pump_until(app.root, lambda: app.recording is not None and app.recording.control is not None, 3,
               "the recording to start after the countdown")
    started = time.monotonic() - t0
    text = app.recording.control.label.cget("text")
    assert text == "00:00", f"the control bar's clock reads {text!r} when the recording starts"
    assert 3.0 <= started < 4.5, f"recording started {started:.2f} s after the countdown began"
    assert app.recording.session.elapsed() < 0.5

    pump(app.root, 1.2)
    rec = app.recording
    app.stop_recording()
    pump_until(app.root, lambda: app.recording is None, 30, "the recording to end")
    frames = decode_frames(rec.path)
    assert frames
    expected = ref[REGION.top:REGION.bottom, REGION.left:REGION.right]
    for i, frame in enumerate(frames):
        assert tiles_of_colour(frame, OVERLAY_BG) == 0, f"frame {i} contains the countdown square"
        worst = block_differences(frame, expected).max()
        assert worst < 20, f"frame {i} differs from the screen (a countdown leftover?): worst 16x16 tile {worst:.1f}"


def test_escape_cancels_the_countdown_and_nothing_is_recorded(make_app, pattern_screen, monkeypatch):
    from tray.capture.recorder import Recorder

    started = []
    real_start = Recorder.start
    monkeypatch.setattr(Recorder, "start", lambda self: (started.append(self), real_start(self))[1])
    app = make_app(countdown=3)
    t0 = time.monotonic()
    app.recordings.start(REGION, pattern_screen.region)
    pump(app.root, 0.6)
    subprocess.run(["xdotool", "key", "Escape"], check=True, timeout=10)
    pump(app.root, t0 + 4.5 - time.monotonic())  # well past the moment the countdown would have ended
    shot = grab_screen()
    assert countdown_square(shot, REGION) is None, "the countdown is still shown after Esc"
    assert started == [], "the recorder was started although Esc cancelled the countdown"
    assert app.recording is None, "a recording is running although Esc cancelled the countdown"
    assert recordings(app) == [], f"files left after a cancelled countdown: {recordings(app)}"
    assert not app.notifier.calls, app.notifier.calls
    assert np.array_equal(shot, pattern_screen.reference), "something of ours is left on the screen"
    assert app.tray.recording[-1] == (False, False), app.tray.recording


def test_stop_during_the_countdown_cancels_it(make_app, pattern_screen):
    app = make_app(countdown=3)
    app.recordings.start(REGION, pattern_screen.region)
    pump(app.root, 0.5)
    app.stop_recording()  # the stop hotkey / tray menu item
    pump(app.root, 3.5)
    assert app.recording is None and recordings(app) == []
