"""The capture loop with a backend that can tell an unchanged screen (``capture.changed(region)``, X DAMAGE on X11),
without a display: a synthetic capture whose hint is scripted per deadline, the fake clock, the real encoder."""

from __future__ import annotations

from dataclasses import dataclass, field

from tray_platform.base import Region

from tray.capture.recorder import Recorder
from tests.unit.capture.test_capture_unit import FakeTime, SinkLog, SmallScreen, SyntheticCapture, decoded_pts


@dataclass
class HintedCapture(SyntheticCapture):
    """``changed`` answers True only at the deadlines (0-based calls) in ``changes``."""

    changes: set[int] = field(default_factory=set)
    hints: int = 0

    def changed(self, region: Region) -> bool:
        n = self.hints
        self.hints += 1
        return n in self.changes


def record(tmp_path, cap: HintedCapture, seconds: float = 3.0):
    ft = FakeTime()
    rec = Recorder(tmp_path / "r.webm", region=Region(0, 0, 64, 48), fps=10, max_duration=seconds, sink=SinkLog(),
                   display_info=SmallScreen(), capture_factory=lambda: cap, clock=ft.clock, sleeper=ft.sleep,
                   wall_clock=lambda: 1_700_000_000.5)
    ft.recorder = rec
    rec.start()
    assert rec.wait(30)
    return rec.result


def test_an_unchanged_screen_is_grabbed_once_a_second_and_still_has_a_frame_a_second(tmp_path):
    cap = HintedCapture(content=lambda n: 7)
    result = record(tmp_path, cap)
    assert len(cap.grabs) == 3  # t = 0, 1, 2 s: the first grab and the safety grabs
    s = result.stats
    assert s.ticks == 30 and s.grabs_skipped_unchanged == 27 and s.frames_keepalive == 2
    assert decoded_pts(tmp_path / "r.webm")[0] == [0, 1000, 2000, 2900]


def test_a_change_is_grabbed_at_its_deadline_and_the_safety_grab_counts_from_there(tmp_path):
    # deadline 15 (t = 1.5 s) says changed, and the grab there sees new pixels (the 3rd grab)
    cap = HintedCapture(content=lambda n: 0 if n < 2 else 9, changes={15})
    result = record(tmp_path, cap)
    assert len(cap.grabs) == 4  # t = 0, 1.0 (safety), 1.5 (changed), 2.5 (safety: a second after the last grab)
    assert decoded_pts(tmp_path / "r.webm")[0] == [0, 1000, 1500, 2500, 2900]
    s = result.stats
    assert s.ticks == s.frames_queued + s.frames_dropped + s.frames_skipped_identical + s.grabs_skipped_unchanged


def test_while_sound_is_recorded_the_hint_still_skips_the_grabs_of_an_unchanged_screen(tmp_path):
    """A still screen with sound costs as little as one without: the hint is asked at every deadline and only the
    first grab and the safety grabs happen (the A/V timing of a hinted grab is the damage watch's round trip before it
    reads events: tests/e2e/audio/test_audio_e2e.py checks sync with the real X server)."""
    from tray.capture.audio import AudioSpec
    from tests.unit.capture.test_audio_unit import FakeInput, FakeTime as AudioTime

    cap = HintedCapture(content=lambda n: 7)
    ft, inp = AudioTime(), FakeInput()
    inp.clock = ft.clock
    rec = Recorder(tmp_path / "a.webm", region=Region(0, 0, 64, 48), fps=10, max_duration=2.0, sink=SinkLog(),
                   display_info=SmallScreen(), capture_factory=lambda: cap, clock=ft.clock, sleeper=ft.sleep,
                   audio=AudioSpec("system"), audio_input=inp)
    ft.recorder = rec
    rec.start()
    assert rec.wait(60)
    s = rec.result.stats
    assert rec.result.error is None and rec.result.audio is not None
    assert cap.hints == s.ticks == 20 and s.grabs_skipped_unchanged == 18
    assert len(cap.grabs) == 2  # t = 0 and the safety grab at 1 s
