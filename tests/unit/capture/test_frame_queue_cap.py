"""Long recordings (issue 21 goal 5): the frames waiting for the encoder are bounded in bytes, so a full queue (the
normal state when the encoder is slower than the grabs) holds at most 16 MiB of yuv420p frames: 5 at 1080p (8 before).
Real encoder and file; the capture is synthetic, the clock injected."""

from __future__ import annotations

from tray_platform.base import Region

from tray.capture.recorder import Recorder

from tests.unit.capture.test_capture_unit import FakeTime, SinkLog, SyntheticCapture, TwoMonitors

BUDGET = 16 * 1024 * 1024  # bytes of frames that may wait (issue 21 goal 5: RSS <= 200 MiB at 1080p)


def test_the_queue_holds_at_most_16_mib_of_frames_at_1080p(tmp_path):
    width, height = 1920, 1080
    ft, cap = FakeTime(), SyntheticCapture(lambda n: n)
    rec = Recorder(tmp_path / "r.webm", region=Region(0, 0, width, height), sink=SinkLog(),
                   display_info=TwoMonitors(), capture_factory=lambda: cap, clock=ft.clock, sleeper=ft.sleep,
                   wall_clock=lambda: 1.7e9, fps=10, max_duration=0.3)
    ft.recorder = rec
    rec.start()
    try:
        bound = rec._queue.maxsize  # queue.Queue enforces it: the capture drops a frame when it is full
    finally:
        assert rec.wait(60)
    assert bound == 5 and bound * width * height * 3 // 2 <= BUDGET
    assert rec.result.error is None and rec.result.stats.frames_encoded >= 3
