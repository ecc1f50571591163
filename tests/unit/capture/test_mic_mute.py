"""The microphone's mute switch and level meter (issue 14, control bar): muting writes silence for the mic on the
recording clock's sample grid -- the system sound goes on, the track keeps its length, and the muted stretch starts
and ends where the clock stood when the switch was flipped, whatever the input's latency. No audio server, no
display: tracks are fed blocks stamped on a fake clock, like the readers do."""

from __future__ import annotations

import pytest

from tray_platform.base import AudioBlock, AudioDevice

from tray.capture.audio import RATE, AudioMixer, MicControl, SourceTrack
from tray.capture.timeline import RecordingTimeline

np = pytest.importorskip("numpy")

MIC = AudioDevice("mic-1", "Desk Mic", "mic", True)
MONITOR = AudioDevice("out.monitor", "Monitor of Speakers", "monitor", True)
T0 = 10.0
BLOCK = 0.01  # s per block, as a 10 ms PulseAudio fragment
LATENCY = 0.035  # s between a sample's capture and its block reaching the reader


def grid(t: float) -> int:
    return round(t * RATE)


def tone(freq: float, start: int, n: int, amplitude: float = 0.3):
    t = np.arange(start, start + n) / RATE
    x = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(x[:, None], 2, axis=1)


def block_of(freq: float, t: float, seconds: float = BLOCK) -> AudioBlock:
    return AudioBlock(tone(freq, grid(t), grid(seconds)).tobytes(), grid(seconds), t)


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def run(switches: dict[float, bool], seconds: float = 3.0, pause: tuple[float, float] | None = None):
    """Simulate ``seconds`` of recording in 10 ms steps: at each step the readers deliver what was captured
    ``LATENCY`` ago (1 kHz mic, 440 Hz system), the switch is flipped at the clock times in ``switches`` and the
    mixer pumps every 100 ms. Returns (mixed output, the mic control, its level at each step)."""
    clock = Clock(T0)
    mic_control = MicControl(clock=clock)
    mic = SourceTrack("mic", MIC, mic=mic_control)
    system = SourceTrack("system", MONITOR)
    timeline = RecordingTimeline()
    timeline.start(T0)
    mixer = AudioMixer([mic, system], timeline)
    pending = sorted(switches.items())
    frames, levels = [], []
    steps = round(seconds / BLOCK)
    for k in range(1, steps + 1):
        now = T0 + k * BLOCK
        # the switch flips between two deliveries, at its exact clock time
        while pending and pending[0][0] <= now:
            clock.now = pending[0][0]
            mic_control.set_muted(pending.pop(0)[1])
        clock.now = now
        if pause and abs(now - pause[0]) < 1e-9:
            timeline.pause(now)
        if pause and abs(now - pause[1]) < 1e-9:
            timeline.resume(now)
        captured = now - LATENCY - BLOCK
        if captured >= T0:
            mic.add(block_of(1000, captured))
            system.add(block_of(440, captured))
        levels.append((now, mic_control.level()))
        if k % 10 == 0:
            frames += mixer.pump(now)
    clock.now = T0 + seconds + 1.0
    captured = T0 + seconds - LATENCY - BLOCK
    while captured < T0 + seconds:  # the readers deliver the rest
        captured += BLOCK
        mic.add(block_of(1000, captured))
        system.add(block_of(440, captured))
    end_ms = round((seconds - (pause[1] - pause[0] if pause else 0)) * 1000)
    frames += mixer.finish(end_ms)
    assert [p for p, _ in frames] == [i * 960 for i in range(len(frames))]
    return np.concatenate([f for _, f in frames])[:grid(end_ms / 1000)], mic_control, levels


def band(x, freq: float) -> float:
    """Amplitude of ``freq`` in ``x`` (mono), by correlation with a sine and a cosine of it."""
    mono = x.mean(axis=1).astype(np.float64)
    t = np.arange(len(mono)) / RATE
    return 2 * float(np.hypot((mono * np.sin(2 * np.pi * freq * t)).mean(), (mono * np.cos(2 * np.pi * freq * t)).mean()))


def muted_runs(out, expected_system, tol: float = 1e-4) -> list[tuple[float, float]]:
    """Stretches (seconds of output) longer than 5 ms where the output is exactly the system tone (no mic)."""
    quiet = np.abs(out - expected_system).max(axis=1) < tol
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(int), [0]])))
    return [(a / RATE, b / RATE) for a, b in zip(edges[::2], edges[1::2]) if b - a > 0.005 * RATE]


def test_a_muted_stretch_has_no_mic_tone_keeps_the_system_tone_and_starts_and_ends_at_the_click():
    mute_at, unmute_at = T0 + 1.0037, T0 + 2.2113  # not on a block or frame boundary
    out, _, _ = run({mute_at: True, unmute_at: False})
    assert len(out) == grid(3.0)  # silence for the mic, not a gap: the track keeps its length
    system = tone(440, grid(T0), len(out))
    runs = muted_runs(out, system)
    assert len(runs) == 1, runs
    start, end = runs[0]
    assert abs(start - (mute_at - T0)) <= 1 / RATE and abs(end - (unmute_at - T0)) <= 1 / RATE, runs
    muted = out[grid(1.01):grid(2.2)]
    assert band(muted, 1000) < 1e-3 and band(muted, 440) == pytest.approx(0.3, abs=0.01)
    for live in (out[:grid(1.0)], out[grid(2.22):]):  # elsewhere both tones, at their level
        assert band(live, 1000) == pytest.approx(0.3, abs=0.01) and band(live, 440) == pytest.approx(0.3, abs=0.01)


def test_mute_spans_follow_the_clock_through_a_pause():
    # muted from 0.5 s to 1.5 s of clock; the pause cuts 1.0..2.0 out: the output is muted from 0.5 to 1.0 only
    out, _, _ = run({T0 + 0.5: True, T0 + 1.5: False}, seconds=3.0, pause=(T0 + 1.0, T0 + 2.0))
    assert len(out) == grid(2.0)
    system = tone(440, grid(T0), grid(1.0))
    system = np.concatenate([system, tone(440, grid(T0 + 2.0), grid(1.0))])
    runs = muted_runs(out, system)
    assert len(runs) == 1 and abs(runs[0][0] - 0.5) <= 1 / RATE and abs(runs[0][1] - 1.0) <= 2 / RATE, runs  # (both tones cross 0 at 2.0)


def test_level_meter_shows_the_mic_peak_and_falls_to_zero_when_muted_or_silent():
    mute_at, unmute_at = T0 + 1.0, T0 + 2.0
    _, control, levels = run({mute_at: True, unmute_at: False})
    def at(lo, hi):
        return [v for t, v in levels if T0 + lo <= t < T0 + hi]

    assert at(0.0, 0.04) == [0.0] * len(at(0.0, 0.04))  # nothing delivered yet
    assert all(v == pytest.approx(0.3, abs=0.005) for v in at(0.1, 1.0))  # the 1 kHz tone's peak
    assert all(v == 0.0 for v in at(1.0, 2.0))  # muted: 0 at once
    # unmuted: only audio captured after the unmute counts, and it arrives LATENCY + a block later
    assert all(v == 0.0 for v in at(2.0, 2.0 + LATENCY))
    assert all(v == pytest.approx(0.3, abs=0.005) for v in at(2.0 + LATENCY + 2 * 0.01, 3.0))
    assert control.muted is False
    # nothing delivered for STALE s: 0 (a stalled device); a lost input: 0
    clock = Clock(100.0)
    c = MicControl(clock=clock)
    c.observe(grid(99.9), tone(1000, grid(99.9), grid(0.1), amplitude=0.8))
    assert c.level() == pytest.approx(0.8, abs=0.01)
    clock.now = 100.6
    assert c.level() == 0.0
    clock.now = 100.0
    c.mark_lost()
    assert c.level() == 0.0


def test_switch_is_idempotent_and_toggles():
    clock = Clock(5.0)
    c = MicControl(clock=clock)
    assert c.toggle() is True and c.muted
    clock.now = 5.5
    c.set_muted(True)  # already muted: the span still starts at 5.0
    clock.now = 6.0
    assert c.toggle() is False and not c.muted
    assert c.muted_spans(grid(4.0), grid(7.0)) == [(grid(5.0), grid(6.0))]
    assert c.muted_spans(grid(6.0), grid(7.0)) == []  # the mixer passed it: forgotten
