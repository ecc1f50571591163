"""Recorder end to end under Xvfb: real mss grabs, real libvpx-vp9 encoding, real files, decoded with PyAV/ffprobe."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tray_platform.base import NoDisplayError, Region

from tray.capture.errors import InvalidCaptureTarget
from tray.capture.recorder import Recorder, RecorderState
from tray.capture.screenshot import capture_png
from tray.capture.sink import STABLE_FROM_OFFSET

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")


def decode(path: Path, *, rgb: bool = False) -> dict:
    """Decode every frame of ``path``; returns sizes, pts (s), container duration (s), and optionally RGB frames."""
    out = {"pts": [], "sizes": set(), "frames": []}
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        out["codec"] = stream.codec_context.name
        out["duration"] = c.duration / 1e6 if c.duration is not None else None
        for frame in c.decode(stream):
            out["pts"].append(float(frame.pts * frame.time_base))
            out["sizes"].add((frame.width, frame.height))
            if rgb:
                out["frames"].append(frame.to_ndarray(format="rgb24"))
    return out


def ffprobe(path: Path) -> dict:
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-of", "json", "-show_entries",
                        "format=duration:stream=codec_name,width,height,nb_read_frames", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_ten_second_recording_decodes_with_right_size_duration_frames_and_stable_durable_bytes(
        pattern_display, sink_log, tmp_path):
    fps = 12
    path = tmp_path / "ten.webm"
    sink_log.path = path
    rec = pattern_display.recorder(path, region=Region(0, 0, 640, 360), fps=fps, bitrate=1_000_000,
                                   max_duration=10.0, sink=sink_log)
    rec.start()
    assert rec.wait(60), "recording did not end at max_duration"
    result = rec.result
    assert rec.state is RecorderState.FINISHED and result.error is None
    interval = 1.0 / fps

    # ffprobe and PyAV agree with the recorder
    probe = ffprobe(path)
    stream = probe["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("vp9", 640, 360)
    assert abs(float(probe["format"]["duration"]) - 10.0) <= interval
    assert int(stream["nb_read_frames"]) == result.frames
    d = decode(path)
    assert d["sizes"] == {(640, 360)} and d["codec"] == "vp9"
    assert len(d["pts"]) == result.frames == result.stats.frames_encoded
    assert d["pts"] == sorted(d["pts"]) and len(set(d["pts"])) == len(d["pts"])
    assert abs(d["duration"] - 10.0) <= interval and abs(result.duration - 10.0) <= interval
    # frame count consistent with the fps: one grab per deadline (late deadlines counted), frames <= deadlines + 1
    s = result.stats
    assert abs((s.ticks + s.late_ticks) - 10.0 * fps) <= 2
    assert s.ticks == s.frames_queued + s.frames_dropped + s.frames_skipped_identical + s.grabs_skipped_unchanged
    assert result.frames in (s.frames_queued, s.frames_queued + 1)  # + the repeated last frame
    assert result.frames <= 10 * fps + 1
    assert result.metadata == {"filename": "ten.webm", "timestamp": result.metadata["timestamp"], "fps": fps,
                               "codec": "vp9", "bitrate": 1_000_000, "resolution": "640x360"}

    # sink: durable notices during recording, strictly increasing, then finished with the real numbers
    kinds = sink_log.kinds()
    assert kinds[-1] == "finished" and "failed" not in kinds
    durables = sink_log.durables()
    assert len(durables) >= 5, durables
    assert durables == sorted(set(durables))
    fin = sink_log.events[-1]
    assert fin[1] == os.path.getsize(path) == result.total_bytes and durables[-1] <= fin[1]
    assert abs(fin[2] - result.duration) < 1e-9 and fin[3] == result.metadata
    # bytes reported durable never change later, except the header the muxer rewrites at close (offset ~40)
    final = path.read_bytes()
    for snap in sink_log.snapshots:
        assert final[STABLE_FROM_OFFSET:len(snap)] == snap[STABLE_FROM_OFFSET:]
        changed = [i for i in range(min(len(snap), STABLE_FROM_OFFSET)) if snap[i] != final[i]]
        assert not changed or (changed[0] >= 32 and changed[-1] < 1024), (changed[:5], changed[-5:])


def test_pause_resume_total_duration_excludes_the_pause(pattern_display, sink_log, tmp_path):
    path = tmp_path / "pause.webm"
    states = []
    rec = pattern_display.recorder(path, region=Region(640, 240, 320, 160), fps=10, max_duration=2.0,
                                   sink=sink_log, on_state=states.append)
    rec.start()
    time.sleep(0.8)
    rec.pause()
    time.sleep(0.3)  # a grab already running when pause() was called may still finish (it is pre-pause)
    paused_at_frames = rec.stats.ticks
    time.sleep(1.2)
    assert rec.stats.ticks == paused_at_frames  # no grabs while paused
    rec.resume()
    assert rec.wait(30)
    d = decode(path)
    assert abs(d["duration"] - 2.0) <= 0.1 and abs(rec.result.duration - 2.0) <= 0.1
    gaps = [b - a for a, b in zip(d["pts"], d["pts"][1:])]
    assert max(gaps) < 0.5, gaps  # the 1.5 s pause left no gap in the output timeline
    assert RecorderState.PAUSED in states and states[-1] is RecorderState.FINISHED


def expected_gradient(region: Region) -> bytes:
    px = bytearray()
    for y in range(region.top, region.bottom):
        for x in range(region.left, region.right):
            px += bytes((x, 2 * y, (x + y) % 256))
    return bytes(px)


@pytest.mark.parametrize("region", [Region(17, 9, 101, 53), Region(0, 0, 256, 128), Region(255, 127, 1, 1)])
def test_screenshot_region_is_pixel_exact(pattern_display, region):
    from PIL import Image

    png = capture_png(region, display_info=pattern_display.display_info(),
                      capture_factory=pattern_display.capture_factory())
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (region.width, region.height)
    assert img.convert("RGB").tobytes() == expected_gradient(region)


def test_screenshot_monitor_and_all_monitors(pattern_display):
    from PIL import Image

    kw = dict(display_info=pattern_display.display_info(), capture_factory=pattern_display.capture_factory())
    for target in (0, None):
        img = Image.open(io.BytesIO(capture_png(target, **kw))).convert("RGB")
        assert img.size == (pattern_display.width, pattern_display.height)
        assert img.getpixel((400, 60)) == (255, 0, 0) and img.getpixel((600, 180)) == (255, 255, 255)


def test_video_region_crop_matches_the_pattern_and_odd_size_is_cropped_to_even(pattern_display, tmp_path):
    # x 401..599 covers red|green over blue|white (border at x=500, y=120); 199x119 is odd -> 198x118
    path = tmp_path / "crop.webm"
    rec = pattern_display.recorder(path, region=Region(401, 61, 199, 119), fps=5, max_duration=0.6)
    rec.start()
    assert rec.wait(30)
    assert rec.result.metadata["resolution"] == "198x118"
    d = decode(path, rgb=True)
    assert d["sizes"] == {(198, 118)}
    f = d["frames"][0].astype(int)

    def near(block, colour, tol=24):
        mean = block.reshape(-1, 3).mean(axis=0)
        return all(abs(m - c) <= tol for m, c in zip(mean, colour)), mean

    # border at x = 500 - 401 = 99 and y = 120 - 61 = 59; stay 4 px away from it (4:2:0 chroma)
    for block, colour in [(f[4:55, 4:95], (255, 0, 0)), (f[4:55, 103:194], (0, 255, 0)),
                          (f[63:114, 4:95], (0, 0, 255)), (f[63:114, 103:194], (255, 255, 255))]:
        ok, mean = near(block, colour)
        assert ok, (colour, mean)
    assert near(f[10:50, 95:97], (255, 0, 0), tol=40)[0] and near(f[10:50, 101:103], (0, 255, 0), tol=40)[0]


def test_record_one_monitor_full_size(pattern_display, tmp_path):
    path = tmp_path / "mon.webm"
    rec = pattern_display.recorder(path, monitor=0, fps=5, max_duration=0.6)
    rec.start()
    assert rec.wait(30)
    assert decode(path)["sizes"] == {(pattern_display.width, pattern_display.height)}


@pytest.mark.parametrize("kwargs, message", [
    (dict(region=Region(900, 500, 100, 100)), "not inside the screen"),
    (dict(region=Region(-5, 0, 100, 100)), "not inside the screen"),
    (dict(region=Region(10, 10, 0, 50)), "zero or negative size"),
    (dict(region=Region(10, 10, 1, 50)), "too small"),
    (dict(monitor=1), "monitor 1 does not exist: this display has 1 monitor"),
    (dict(monitor=-1), "monitor -1 does not exist"),
])
def test_bad_targets_are_rejected_before_any_file_is_written(pattern_display, tmp_path, kwargs, message):
    path = tmp_path / "bad.webm"
    rec = pattern_display.recorder(path, **kwargs)
    with pytest.raises(InvalidCaptureTarget, match=message):
        rec.start()
    assert not path.exists()
    if message == "too small":
        return  # a 1-pixel-wide screenshot is fine; only video needs even sizes
    with pytest.raises(InvalidCaptureTarget, match=message):
        capture_png(kwargs.get("region", kwargs.get("monitor")), display_info=pattern_display.display_info(),
                    capture_factory=pattern_display.capture_factory())


def test_no_display_is_a_clear_error(monkeypatch, tmp_path):
    from tray_platform.linux.display import X11DisplayInfo

    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(NoDisplayError, match="DISPLAY is not set"):
        Recorder(tmp_path / "x.webm").start()
    with pytest.raises(NoDisplayError, match="cannot open X display ':239'"):
        Recorder(tmp_path / "x.webm", display_info=X11DisplayInfo(display=":239")).start()
    with pytest.raises(NoDisplayError):
        capture_png()
    assert not (tmp_path / "x.webm").exists()


def test_cursor_is_drawn_only_when_asked(pattern_display):
    from PIL import Image

    if subprocess.run(["which", "xdotool"], capture_output=True).returncode != 0:
        pytest.skip("needs xdotool")
    subprocess.run(["xdotool", "mousemove", "400", "60"], env=pattern_display.env(), check=True, timeout=10)
    region = Region(380, 40, 40, 40)  # inside the red block, around the pointer
    info = pattern_display.display_info()
    try:
        plain = Image.open(io.BytesIO(capture_png(region, display_info=info,
                                                  capture_factory=pattern_display.capture_factory(False))))
        with_cursor = Image.open(io.BytesIO(capture_png(region, cursor=True, display_info=info,
                                                        capture_factory=pattern_display.capture_factory(True))))
    finally:
        subprocess.run(["xdotool", "mousemove", "950", "530"], env=pattern_display.env(), timeout=10)
    def colours(img) -> set[bytes]:
        raw = img.convert("RGB").tobytes()
        return {raw[i:i + 3] for i in range(0, len(raw), 3)}

    assert colours(plain) == {b"\xff\x00\x00"}
    assert len(colours(with_cursor)) > 1
