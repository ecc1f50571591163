"""Long recordings (issue 21 goal 5): the frames waiting for the encoder are bounded in bytes, so a full queue (the
normal state when the encoder is slower than the grabs) holds at most 16 MiB of yuv420p frames: 5 at 1080p. Real
encoder and file; the capture is synthetic and the encoder thread is held inside its first durable notice."""

from __future__ import annotations

import threading
import time

from tray_platform.base import Region

from tray.capture.recorder import Recorder

from tests.unit.capture.test_capture_unit import FakeTime, SinkLog, SyntheticCapture, TwoMonitors

BUDGET = 16 * 1024 * 1024  # bytes of frames that may wait (issue 21 goal 5: RSS <= 200 MiB at 1080p)


def test_a_full_queue_at_1080p_holds_at_most_16_mib_of_frames(tmp_path):
    release = threading.Event()
    sink = SinkLog()
    original = sink.durable

    def held_durable(n: int) -> None:  # the encoder thread stops inside the first durable notice
        release.wait(20)
        original(n)

    sink.durable = held_durable
    ft, cap = FakeTime(), SyntheticCapture(lambda n: n)  # every grab differs: nothing skipped as identical
    rec = Recorder(tmp_path / "r.webm", region=Region(0, 0, 1920, 1080), sink=sink, display_info=TwoMonitors(),
                   capture_factory=lambda: cap, clock=ft.clock, sleeper=ft.sleep, wall_clock=lambda: 1.7e9,
                   fps=10, max_duration=2.0)
    rec.start()  # ft.recorder stays None: the capture runs ahead of the held encoder
    try:
        deadline = time.monotonic() + 20
        while rec.stats.ticks < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        s = rec.stats
        assert s.ticks == 20
        waiting = s.frames_queued - 1  # the first frame is in the encoder's hands; the rest waits in the queue
        assert s.frames_dropped == 20 - 1 - waiting
        assert 2 <= waiting and waiting * 1920 * 1080 * 3 // 2 <= BUDGET, waiting
    finally:
        release.set()
    assert rec.wait(60)
    assert rec.result.error is None and rec.result.stats.frames_encoded >= 1 + waiting
