"""The webcam bubble (issue 19, acceptance 5): ``snaplark record --webcam`` in a real process on a still Xvfb
screen, the camera being a video file played as one (``--webcam-device file:PATH``, the file-fed camera adapter).
The decoded recording shows the camera's pictures as a disc at the chosen corner -- left and right not swapped,
the pictures changing as the file plays -- and the screen everywhere else, the corners of the disc's square too.
A camera that cannot be opened is refused before anything is recorded, naming it. When a real V4L2 camera exists
(/dev/video0), it is recorded too. Frames: test-artifacts/recording/webcam-*.png.
"""

from __future__ import annotations

import fractions
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from recording_helpers import ARTIFACTS, decode_frames

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")

# the camera file: the left half one colour, the right half another; the pair changes every 0.6 s
PAIRS = [((40, 200, 60), (40, 80, 230)), ((240, 220, 40), (220, 50, 200))]
REGION = (0, 0, 640, 360)
DIAMETER, MARGIN = 90, 16  # a quarter of the shorter side; 16 px from the edges (tray.capture.webcam_bubble)


def camera_file(path: Path, fps: int = 10, seconds: float = 1.2) -> Path:
    out = av.open(str(path), "w")
    stream = out.add_stream("libvpx-vp9", rate=fps)
    stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
    for i in range(round(fps * seconds)):
        left, right = PAIRS[(i * len(PAIRS)) // round(fps * seconds)]
        rgb = np.zeros((240, 320, 3), dtype=np.uint8)
        rgb[:, :160], rgb[:, 160:] = left, right
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts, frame.time_base = i, fractions.Fraction(1, fps)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return path


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
