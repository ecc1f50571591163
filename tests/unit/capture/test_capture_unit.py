"""Recorder pipeline without a display: a synthetic ScreenCapture (the OS edge), a fake clock and sleeper, and the
real encoder, muxer and files."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tray_platform.base import Monitor, Region

from tray.capture.encoder import WebmVp9Writer
from tray.capture.errors import InvalidCaptureTarget, RecorderStateError
from tray.capture.recorder import Recorder, RecorderState
from tray.capture.sink import NullSink, RecordingSink
from tray.capture.target import even_region, parse_region, resolve_target

av = pytest.importorskip("av")


@dataclass
class TwoMonitors:
    """DisplayInfo of a 1920x1080 monitor with a 1280x1024 one to its right."""

    def monitors(self) -> list[Monitor]:
        return [Monitor(0, Region(0, 0, 1920, 1080), primary=True), Monitor(1, Region(1920, 0, 1280, 1024))]

    def virtual_screen(self) -> Region:
        return Region(0, 0, 3200, 1080)


class SmallScreen:
    def monitors(self) -> list[Monitor]:
        return [Monitor(0, Region(0, 0, 64, 48), primary=True)]

    def virtual_screen(self) -> Region:
        return Region(0, 0, 64, 48)


class FakeTime:
    """Monotonic clock + sleeper: sleeping advances the clock. Before advancing it lets the encoder drain the
    queue, so no frame is dropped and the test is deterministic."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self.recorder: Recorder | None = None
        self.on_sleep = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + 10
        q = self.recorder._queue if self.recorder else None
        while q is not None and not q.empty() and time.monotonic() < deadline:
            time.sleep(0.001)
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(self.now)


@dataclass
class SyntheticCapture:
    """Frames whose content is given by ``content(n)``: an int shade per grab. Raises after ``fail_after`` grabs."""

    content: object
    fail_after: int | None = None
    grabs: list[Region] = field(default_factory=list)
    closed: bool = False

    def grab(self, region: Region):
        n = len(self.grabs)
        if self.fail_after is not None and n >= self.fail_after:
            raise RuntimeError("display connection lost")
        self.grabs.append(region)
        shade = self.content(n) % 256
        return region.width, region.height, bytearray([shade, 255 - shade, (shade * 7) % 256, 255]) * (
            region.width * region.height)

    def close(self) -> None:
        self.closed = True


class SinkLog:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def durable(self, nbytes: int) -> None:
        self.events.append(("durable", nbytes))

    def finished(self, total_bytes: int, duration: float, metadata: dict) -> None:
        self.events.append(("finished", total_bytes, duration, metadata))

    def failed(self, reason: str) -> None:
        self.events.append(("failed", reason))


def make(tmp_path: Path, content=lambda n: n, *, fail_after=None, **kw):
    ft = FakeTime()
    cap = SyntheticCapture(content, fail_after)
    sink = kw.pop("sink", SinkLog())
    rec = Recorder(tmp_path / "r.webm", region=kw.pop("region", Region(0, 0, 64, 48)), sink=sink,
                   display_info=SmallScreen(), capture_factory=lambda: cap, clock=ft.clock, sleeper=ft.sleep,
                   wall_clock=lambda: 1_700_000_000.5, **kw)
    ft.recorder = rec
    return rec, ft, cap, sink


def decoded_pts(path: Path) -> tuple[list[int], float]:
    with av.open(str(path)) as c:
        pts = [int(f.pts) for f in c.decode(c.streams.video[0])]  # time base 1/1000
        return pts, c.duration / 1e6


# ------------------------------------------------------------------------------------------------ targets
def test_resolve_target_region_monitor_and_all():
    d = TwoMonitors()
    assert resolve_target(d) == Region(0, 0, 3200, 1080)
    assert resolve_target(d, monitor=1) == Region(1920, 0, 1280, 1024)
    assert resolve_target(d, region=Region(1900, 10, 100, 100)) == Region(1900, 10, 100, 100)  # spans both
    with pytest.raises(InvalidCaptureTarget, match="monitor 2 does not exist: this display has 2 monitor"):
        resolve_target(d, monitor=2)
    with pytest.raises(InvalidCaptureTarget, match="not inside the screen"):
        resolve_target(d, region=Region(3150, 0, 100, 10))
    with pytest.raises(InvalidCaptureTarget, match="zero or negative size: 10x-1"):
        resolve_target(d, region=Region(0, 0, 10, -1))
    with pytest.raises(InvalidCaptureTarget, match="not both"):
        resolve_target(d, region=Region(0, 0, 10, 10), monitor=0)


def test_even_region_crops_odd_sizes_by_one_pixel():
    assert even_region(Region(5, 7, 641, 361)) == Region(5, 7, 640, 360)
    assert even_region(Region(0, 0, 2, 2)) == Region(0, 0, 2, 2)
    with pytest.raises(InvalidCaptureTarget, match="too small"):
        even_region(Region(0, 0, 1, 10))


def test_parse_region():
    assert parse_region("10, 20,300,200") == Region(10, 20, 300, 200)
    for bad in ("1,2,3", "a,b,c,d", "1,2,3,4,5", ""):
        with pytest.raises(InvalidCaptureTarget, match="X,Y,W,H"):
            parse_region(bad)


# ------------------------------------------------------------------------------------------------ encoder
def test_writer_reports_growing_durable_sizes_and_writes_vfr_timestamps(tmp_path):
    now = [0.0]
    notices: list[int] = []
    w = WebmVp9Writer(tmp_path / "w.webm", 64, 48, fps=10, bitrate=200_000, on_durable=notices.append,
                      clock=lambda: now[0])
    w.open()
    frame = bytearray(64 * 48 * 4)
    for i, pts in enumerate([0, 100, 250, 1300, 1400, 2600, 3900]):  # irregular: VFR
        frame[i::97] = b"\xff" * len(frame[i::97])
        now[0] = pts / 1000
        w.encode(64, 48, frame, pts)
    total = w.close()
    assert notices == sorted(set(notices)) and len(notices) >= 3 and notices[-1] <= total
    pts, duration = decoded_pts(tmp_path / "w.webm")
    assert pts == [0, 100, 250, 1300, 1400, 2600, 3900]
    assert duration == pytest.approx(4.0, abs=0.001)  # last pts + one frame interval
    with pytest.raises(ValueError, match="even"):
        WebmVp9Writer(tmp_path / "odd.webm", 63, 48, fps=10, bitrate=200_000, on_durable=print, clock=time.monotonic)


# ------------------------------------------------------------------------------------------------ recorder
def test_moving_content_every_tick_is_encoded_on_the_deadline_grid(tmp_path):
    rec, ft, cap, sink = make(tmp_path, fps=10, max_duration=2.0)
    rec.start()
    assert rec.wait(30)
    r = rec.result
    assert r.error is None and rec.state is RecorderState.FINISHED
    pts, duration = decoded_pts(tmp_path / "r.webm")
    assert pts == list(range(0, 2000, 100))  # 20 deadlines, 100 ms apart, nothing dropped
    assert duration == pytest.approx(2.0, abs=0.001)
    assert r.stats.ticks == 20 and r.stats.frames_dropped == 0 and r.frames == 20
    assert sink.events[-1] == ("finished", r.total_bytes, 2.0, r.metadata)
    assert r.metadata == {"filename": "r.webm", "timestamp": 1_700_000_000_500, "fps": 10, "codec": "vp9",
                          "bitrate": 2_500_000, "resolution": "64x48"}
    assert cap.closed


def test_static_screen_encodes_only_keepalive_frames_and_the_last_frame_again(tmp_path):
    rec, ft, cap, sink = make(tmp_path, content=lambda n: 7, fps=10, max_duration=3.0)
    rec.start()
    assert rec.wait(30)
    s = rec.result.stats
    pts, duration = decoded_pts(tmp_path / "r.webm")
    assert pts == [0, 1000, 2000, 2900]  # first, one keep-alive per second, the last frame repeated at stop
    assert duration == pytest.approx(3.0, abs=0.001)
    assert s.ticks == 30 and s.frames_skipped_identical == 27 and s.frames_keepalive == 2


def test_countdown_uses_the_injected_sleeper_and_reports_each_second(tmp_path):
    counted: list[int] = []
    rec, ft, cap, sink = make(tmp_path, fps=5, countdown=3, max_duration=0.4, on_countdown=counted.append)
    states: list[RecorderState] = []
    rec._on_state = states.append
    rec.start()
    assert rec.wait(30)
    assert counted == [3, 2, 1] and ft.sleeps[:3] == [1.0, 1.0, 1.0]
    assert states == [RecorderState.COUNTDOWN, RecorderState.RECORDING, RecorderState.STOPPING,
                      RecorderState.FINISHED]
    assert decoded_pts(tmp_path / "r.webm")[0] == [0, 200]


def test_stop_during_countdown_records_nothing_and_says_so(tmp_path):
    rec, ft, cap, sink = make(tmp_path, fps=5, countdown=5)
    rec._on_countdown = lambda n: rec.request_stop() if n == 4 else None
    rec.start()
    assert rec.wait(30)
    assert rec.stop() is None and rec.state is RecorderState.FAILED
    assert [e[0] for e in sink.events] == ["failed"] and "before the first frame" in sink.events[0][1]
    assert not (tmp_path / "r.webm").exists() and cap.grabs == []
    assert ft.sleeps == [1.0, 1.0]


def test_pause_is_cut_out_of_the_timeline(tmp_path):
    rec, ft, cap, sink = make(tmp_path, fps=10, max_duration=2.0)

    def at(now: float) -> None:
        if abs(now - 100.8) < 1e-6:  # 0.8 s in: pause, and resume 5 s (fake) later from another thread
            rec.pause()

            def later() -> None:
                ft.now += 5.0
                rec.resume()

            threading.Thread(target=later).start()

    ft.on_sleep = at
    rec.start()
    assert rec.wait(30)
    pts, duration = decoded_pts(tmp_path / "r.webm")
    assert duration == pytest.approx(2.0, abs=0.001)
    gaps = {b - a for a, b in zip(pts, pts[1:])}
    assert gaps == {100}, pts  # the 5 s pause left no hole
    assert rec.result.stats.ticks == 20


def test_capture_error_stops_cleanly_reports_failed_then_finished(tmp_path):
    rec, ft, cap, sink = make(tmp_path, fps=10, fail_after=7, max_duration=10.0)
    rec.start()
    assert rec.wait(30)
    kinds = [e[0] for e in sink.events]
    assert kinds[-2:] == ["failed", "finished"] and "display connection lost" in sink.events[-2][1]
    assert rec.state is RecorderState.FAILED and "display connection lost" in rec.result.error
    pts, _ = decoded_pts(tmp_path / "r.webm")
    assert pts[:7] == list(range(0, 700, 100))
    assert sink.events[-1][1] == (tmp_path / "r.webm").stat().st_size


def test_queue_full_drops_frames_and_counts_them_without_blocking_capture(tmp_path):
    release = threading.Event()
    sink = SinkLog()
    original = sink.durable

    def slow_durable(n: int) -> None:  # the encoder thread stalls inside the first durable notice
        release.wait(10)
        original(n)

    sink.durable = slow_durable
    rec, ft, cap, _ = make(tmp_path, fps=10, max_duration=3.0, sink=sink, max_queue_frames=2)
    ft.recorder = None  # the sleeper does not wait for the encoder: capture runs ahead
    rec.start()
    deadline = time.monotonic() + 10
    while rec.stats.ticks < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    assert rec.wait(30)
    s = rec.result.stats
    assert s.ticks == 30 and s.frames_dropped > 0
    assert s.frames_queued + s.frames_dropped + s.frames_skipped_identical == s.ticks


def test_state_errors_and_bad_parameters(tmp_path):
    rec, ft, cap, sink = make(tmp_path, fps=10, max_duration=0.3)
    with pytest.raises(RecorderStateError):
        rec.pause()
    with pytest.raises(RecorderStateError):
        rec.stop()
    rec.start()
    with pytest.raises(RecorderStateError):
        rec.start()
    assert rec.wait(30)
    assert rec.stop() is rec.result  # idempotent
    for kw in (dict(fps=0), dict(fps=500), dict(bitrate=5), dict(countdown=-1)):
        with pytest.raises(InvalidCaptureTarget):
            Recorder(tmp_path / "x.webm", **kw)
    with pytest.raises(ValueError, match="not both"):
        Recorder(tmp_path / "x.webm", sink=NullSink(), sink_factory=lambda p, m: NullSink())


def test_sink_factory_gets_path_and_init_metadata_before_the_first_byte(tmp_path):
    seen = {}

    def factory(path: Path, metadata: dict) -> RecordingSink:
        seen["path"], seen["metadata"] = path, metadata
        seen["size_then"] = path.stat().st_size
        return NullSink()

    ft = FakeTime()
    rec = Recorder(tmp_path / "f.webm", region=Region(0, 0, 63, 47), sink_factory=factory, fps=5, max_duration=0.4,
                   display_info=SmallScreen(), capture_factory=lambda: SyntheticCapture(lambda n: n),
                   clock=ft.clock, sleeper=ft.sleep)
    ft.recorder = rec
    rec.start()
    assert rec.wait(30)
    assert seen["path"] == tmp_path / "f.webm" and seen["size_then"] == 0
    assert seen["metadata"]["resolution"] == "62x46" and seen["metadata"]["codec"] == "vp9"
    assert isinstance(NullSink(), RecordingSink)


def test_importing_capture_needs_no_display_and_loads_no_os_or_codec_library():
    import os
    import subprocess
    import sys

    modules = ["tray.capture.recorder", "tray.capture.screenshot", "tray.capture.sink", "tray.commands.record",
               *(f"tray_platform.{o}.{c}" for o in ("linux", "macos", "windows") for c in ("capture", "display"))]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "loaded = [m for m in ('mss', 'av', 'numpy', 'PIL') if m in sys.modules]\n"
            "assert not loaded, loaded\n")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_a_little_late_catches_up_on_the_grid_far_behind_gives_deadlines_up(tmp_path):
    rec, ft, cap, sink = make(tmp_path, fps=10, max_duration=3.0)
    original = cap.grab

    def slow_grab(region):
        n = len(cap.grabs)
        if n == 5:
            ft.now += 0.15  # 1.5 intervals late: the next deadlines are caught up
        if n == 15:
            ft.now += 0.62  # far behind (> 0.25 s): those deadlines are given up
        return original(region)

    cap.grab = slow_grab
    rec.start()
    assert rec.wait(30)
    s = rec.result.stats
    # grab at 1.5 s returns at 2.12 s: deadlines 1.6 .. 2.0 are given up, 2.1 is served at once, then 2.2 on the grid
    assert s.late_ticks == 5
    assert s.ticks + s.late_ticks == 30
    pts, _ = decoded_pts(tmp_path / "r.webm")
    assert pts[:8] == [0, 100, 200, 300, 400, 500, 650, 700]  # 0.6 deadline served late at 0.65, then caught up
    assert pts[14:18] == [1400, 1500, 2120, 2200]


@pytest.mark.parametrize("argv, message", [
    (["--region", "1,2,3"], "X,Y,W,H"),
    (["--fps", "0"], "fps must be an integer from 1 to 120"),
    (["--bitrate", "5"], "bitrate must be"),
    (["--duration", "-1"], "must not be negative"),
])
def test_record_command_rejects_bad_input_with_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    from tray.commands import record

    monkeypatch.setenv("SNAPLARK_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("DISPLAY", raising=False)
    assert record.main([*argv, "--no-upload", "--output", str(tmp_path / "x.webm")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.webm").exists()
