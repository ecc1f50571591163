"""The webcam bubble (issue 19, acceptance 5): ``snaplark record --webcam`` in a real process on a still Xvfb
screen, the camera being a video file played as one (``--webcam-device file:PATH``, the file-fed camera adapter).
The decoded recording shows the camera's pictures as a disc at the chosen corner -- left and right not swapped,
the pictures changing as the file plays -- and the screen everywhere else, the corners of the disc's square too.
A camera that cannot be opened is refused before anything is recorded, naming it. When a real V4L2 camera exists
(/dev/video0), it is recorded too. Frames: test-artifacts/recording/webcam-*.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from recording_helpers import ARTIFACTS, decode_frames

from tests.video_clips import write_clip

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")

# the camera file: the left half one colour, the right half another; the pair changes every 0.6 s
PAIRS = [((40, 200, 60), (40, 80, 230)), ((240, 220, 40), (220, 50, 200))]
REGION = (0, 0, 640, 360)
DIAMETER, MARGIN = 90, 16  # a quarter of the shorter side; 16 px from the edges (tray.capture.webcam_bubble)


def camera_file(path: Path, fps: int = 10, seconds: float = 1.2) -> Path:
    n = round(fps * seconds)

    def picture(i: int) -> np.ndarray:
        left, right = PAIRS[(i * len(PAIRS)) // n]
        rgb = np.zeros((240, 320, 3), dtype=np.uint8)
        rgb[:, :160], rgb[:, 160:] = left, right
        return rgb

    return write_clip(path, (picture(i) for i in range(n)), fps)


def record(screen, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DISPLAY": screen.display, "SNAPLARK_CONFIG": str(tmp_path / "absent-config.toml"),
           "SNAPLARK_DATA_DIR": str(tmp_path / "data"), "SNAPLARK_LOG_DIR": str(tmp_path / "log"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    return subprocess.run([sys.executable, "-m", "tray.cli", "record", "--region", ",".join(map(str, REGION)),
                           "--no-cursor", "--no-upload", "--audio", "none", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def near(pixel, rgb, tol: int) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, rgb))


@pytest.mark.parametrize("corner", ["bottom-right", "top-left"])
def test_the_bubble_shows_the_camera_at_the_corner_and_the_screen_around_it(pattern_screen, tmp_path, corner):
    cam = camera_file(tmp_path / "camera.webm")
    out = tmp_path / "bubble.webm"
    r = record(pattern_screen, tmp_path, "--duration", "3", "--fps", "15", "--webcam", "--webcam-device",
               f"file:{cam}", "--webcam-corner", corner, "--output", str(out))
    assert r.returncode == 0, r.stderr
    frames = decode_frames(out)
    assert len(frames) >= 4 and frames[0].shape == (360, 640, 3)  # (a still screen: a frame per new picture)
    w, h = REGION[2], REGION[3]
    x0 = MARGIN if corner.endswith("left") else w - DIAMETER - MARGIN
    y0 = MARGIN if corner.startswith("top") else h - DIAMETER - MARGIN
    cy = y0 + DIAMETER // 2
    left_at, right_at = (x0 + DIAMETER // 4, cy), (x0 + 3 * DIAMETER // 4, cy)
    reference = pattern_screen.reference[REGION[1]:REGION[1] + h, REGION[0]:REGION[0] + w]
    seen = set()
    for i, frame in enumerate(frames):
        left, right = frame[left_at[1], left_at[0]], frame[right_at[1], right_at[0]]
        pair = next((k for k, (a, b) in enumerate(PAIRS) if near(left, a, 40) and near(right, b, 40)), None)
        assert pair is not None, f"frame {i}: the bubble shows {left.tolist()} | {right.tolist()}, not the camera"
        seen.add(pair)
        # the corners of the disc's square, and the rest of the screen, are the screen
        for x, y in ((x0 + 3, y0 + 3), (x0 + DIAMETER - 4, y0 + DIAMETER - 4), (w - x0 - DIAMETER // 2, cy)):
            assert near(frame[y, x], reference[y, x], 24), (i, (x, y), frame[y, x], reference[y, x])
    assert seen == {0, 1}, "the bubble did not follow the camera's pictures"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.fromarray(frames[len(frames) // 2]).save(ARTIFACTS / f"webcam-{corner}.png")


def test_a_camera_that_cannot_be_opened_is_refused_naming_it(pattern_screen, tmp_path):
    out = tmp_path / "none.webm"
    r = record(pattern_screen, tmp_path, "--duration", "1", "--webcam", "--webcam-device",
               f"file:{tmp_path / 'no-such-camera.webm'}", "--output", str(out))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert f"webcam 'file:{tmp_path / 'no-such-camera.webm'}': cannot open" in r.stderr, r.stderr
    assert not out.exists()


@pytest.mark.skipif(not Path("/dev/video0").exists(), reason="no V4L2 camera on this machine")
def test_a_real_v4l2_camera_is_recorded(pattern_screen, tmp_path):
    out = tmp_path / "v4l2.webm"
    r = record(pattern_screen, tmp_path, "--duration", "2", "--webcam", "--webcam-device", "/dev/video0",
               "--output", str(out))
    assert r.returncode == 0, r.stderr
    frames = decode_frames(out)
    reference = pattern_screen.reference[:REGION[3], :REGION[2]]
    x0, y0 = REGION[2] - DIAMETER - MARGIN, REGION[3] - DIAMETER - MARGIN
    centre = (slice(y0 + 30, y0 + 60), slice(x0 + 30, x0 + 60))
    assert any(np.abs(f[centre].astype(int) - reference[centre].astype(int)).mean() > 8 for f in frames)


def test_the_bubble_is_dragged_during_the_countdown_and_recorded_where_it_was_left(make_app, pattern_screen,
                                                                                  tmp_path):
    """The tray's way (capture.webcam = true, a 2 s countdown): the bubble's stand-in appears at the bottom-right
    corner of the region, is dragged (xdotool) near the top-left, is gone when recording starts, and the
    recording's bubble is where it was left."""
    import dataclasses
    import subprocess
    import time

    from recording_helpers import grab_screen, pump, pump_until
    from tray_platform.base import Region

    from tray.ui.webcam_preview import DISC

    region = Region(160, 80, 640, 360)
    app = make_app(countdown=2)
    cam = camera_file(tmp_path / "camera.webm")
    app.settings = dataclasses.replace(app.settings, capture=dataclasses.replace(
        app.settings.capture, webcam=True, webcam_device=f"file:{cam}"))
    app.recordings.start(region, pattern_screen.region)
    corner = (region.left + region.width - MARGIN - DIAMETER // 2, region.top + region.height - MARGIN - DIAMETER // 2)
    pump(app.root, 0.3)
    shot = grab_screen(ARTIFACTS / "webcam-preview-before.png")
    disc = tuple(int(DISC[i:i + 2], 16) for i in (1, 3, 5))
    assert near(shot[corner[1] + 20, corner[0]], disc, 8), "no bubble stand-in at the region's bottom-right"
    target = (region.left + 120, region.top + 100)  # the stand-in's centre is dropped here
    for args in (("mousemove", *map(str, corner)), ("mousedown", "1"),
                 ("mousemove", str((corner[0] + target[0]) // 2), str((corner[1] + target[1]) // 2)),
                 ("mousemove", *map(str, target)), ("mouseup", "1")):
        subprocess.run(["xdotool", *args], check=True, timeout=10)
        pump(app.root, 0.05)
    shot = grab_screen(ARTIFACTS / "webcam-preview-moved.png")
    assert near(shot[target[1] + 20, target[0]], disc, 8), "the stand-in did not follow the drag"
    assert not near(shot[corner[1] + 20, corner[0]], disc, 8)
    pump_until(app.root, lambda: app.recording is not None, 5, "the recording to start after the countdown")
    t0 = time.monotonic()
    pump(app.root, 1.5)
    rec = app.recording
    app.stop_recording()
    pump_until(app.root, lambda: app.recording is None, 30, "the recording to end")
    assert time.monotonic() - t0 < 60
    frames = decode_frames(rec.path)
    reference = pattern_screen.reference[region.top:region.bottom, region.left:region.right]
    dropped = (target[0] - region.left, target[1] - region.top)
    old = (corner[0] - region.left, corner[1] - region.top)
    for i, frame in enumerate(frames):
        left = frame[dropped[1], dropped[0] - DIAMETER // 4]
        right = frame[dropped[1], dropped[0] + DIAMETER // 4]
        assert any(near(left, a, 40) and near(right, b, 40) for a, b in PAIRS), (i, left, right)
        # where the bubble was first, and where its stand-in was: the screen (no stand-in in the video)
        assert near(frame[old[1], old[0]], reference[old[1], old[0]], 24), (i, frame[old[1], old[0]])
        assert near(frame[old[1] + 20, old[0]], reference[old[1] + 20, old[0]], 24)
    from PIL import Image

    Image.fromarray(frames[-1]).save(ARTIFACTS / "webcam-dragged.png")


def test_escape_still_cancels_the_countdown_with_the_bubble_stand_in_shown(make_app, pattern_screen, tmp_path):
    """Without its pointer grab (the stand-in must be draggable) the countdown still hears Esc: both go, nothing
    is recorded, the screen is as before."""
    import dataclasses
    import subprocess

    from recording_helpers import grab_screen, pump
    from tray_platform.base import Region

    app = make_app(countdown=3)
    app.settings = dataclasses.replace(app.settings, capture=dataclasses.replace(
        app.settings.capture, webcam=True, webcam_device=f"file:{camera_file(tmp_path / 'camera.webm')}"))
    # Xvfb has no window manager here and the X focus stays PointerRoot (Tk's focus -force does not move it to an
    # override-redirect window), so keys go to the window under the pointer: put it where the user's is after
    # choosing the region, over its middle (the countdown) -- an earlier test's drag left it elsewhere.
    subprocess.run(["xdotool", "mousemove", str(160 + 320), str(80 + 180)], check=True, timeout=10)
    app.recordings.start(Region(160, 80, 640, 360), pattern_screen.region)
    pump(app.root, 0.6)
    subprocess.run(["xdotool", "key", "Escape"], check=True, timeout=10)
    pump(app.root, 3.5)  # past the moment the countdown would have ended
    assert app.recording is None and app.countdown is None
    assert np.array_equal(grab_screen(), pattern_screen.reference), "the countdown or the stand-in is left"
    folder = app.settings.upload.resolved_save_dir()
    assert not (folder.exists() and list(folder.glob("recording-*")))
