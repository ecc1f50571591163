"""Mixing the inputs into 20 ms Opus-ready frames over the recording's time line, under a peak limiter.

:class:`AudioMixer` mixes the sample grid (:mod:`tray.capture.audio_track`) from the recording's ``t0`` on, cuts out
the same pauses as the video (:class:`~tray.capture.timeline.RecordingTimeline`), limits the sum
(:class:`PeakLimiter`) and hands 20 ms frames with sample-exact pts to the encoder, keeping the last ``HOLD`` seconds
back so that the end can be cut exactly where the video ends. Video frames are stamped from the same clock and the
same timeline, so skipping unchanged frames (VFR) never moves audio. The mixer waits for every live input to cover a
stretch before mixing it, at most ``MAX_WAIT`` seconds; after that a missing stretch is silence.

Threading: one mixer and its limiter are used by one thread (the recorder's encoder thread).
"""

from __future__ import annotations

import math
import time
from typing import Callable

from tray.capture.audio_track import CHANNELS, RATE, SourceTrack, lazy_numpy
from tray.capture.timeline import RecordingTimeline, TimelineSnapshot

FRAME = 960  # 20 ms Opus frames
MAX_WAIT = 1.0  # s: the mixer waits this long for a late input before filling silence
HOLD = 0.5  # s: mixed audio kept back from the encoder, so a stop noticed late still ends it on the video's end
GUARD = 0.05  # s: never mix closer to "now" than this (a pause being registered right now)


MAX_SCAN_STEPS = 1000  # gain_curve's d**-j stays below e**10 for the default release (1 ms steps, 100 ms)


def gain_curve(g0: float, needed, recover: float):
    """The gains after each step of ``g[k+1] = min(needed[k], g[k] + (1 - g[k]) * recover)``, without a Python loop.

    With ``h = 1 - g`` and ``d = 1 - recover`` the step is ``h[k+1] = max(1 - needed[k], d * h[k])``, so
    ``h[k+1] = d**k * max(d * h0, max_{j<=k} (1 - needed[j]) * d**-j)``: a running maximum. (The loop ran once per
    millisecond of audio in Python: ~0.3 ms of CPU per 20 ms frame whenever the limiter was engaged.)"""
    np = lazy_numpy()

    n = len(needed)
    d = 1.0 - recover
    powers = d ** np.arange(n, dtype=np.float64)
    peaks = np.maximum.accumulate((1.0 - needed) / powers)
    return 1.0 - powers * np.maximum(d * (1.0 - g0), peaks)


class PeakLimiter:
    """Keeps the mix under ``threshold``: the gain drops at once to what the loudest sample of each 1 ms needs and
    recovers with time constant ``release``; a final clip catches rounding. Stateful: one mixer thread."""

    def __init__(self, *, rate: int = RATE, threshold: float = 0.891, release: float = 0.1, step: float = 0.001):
        self.threshold = threshold
        self._step = max(1, round(rate * step))
        self._recover = 1.0 - math.exp(-step / release)
        self._gain = 1.0
        self.engaged_blocks = 0  # 1 ms steps where the gain was below 1

    def process(self, x):
        np = lazy_numpy()

        n = len(x)
        if n == 0:
            return x
        step = self._step
        steps = -(-n // step)
        peaks = np.zeros(steps * step, dtype=np.float32)
        peaks[:n] = np.abs(x).max(axis=1)
        peak = peaks.reshape(steps, step).max(axis=1)
        if self._gain >= 1.0 and float(peak.max()) <= self.threshold:
            return x  # the common case: nothing to do
        needed = np.minimum(1.0, self.threshold / np.maximum(peak, 1e-12))
        gains = np.empty(steps + 1, dtype=np.float64)
        gains[0] = self._gain
        for lo in range(0, steps, MAX_SCAN_STEPS):
            hi = min(steps, lo + MAX_SCAN_STEPS)
            gains[lo + 1:hi + 1] = gain_curve(gains[lo], needed[lo:hi], self._recover)
        self._gain = float(gains[-1])
        self.engaged_blocks += int((gains[1:] < 1.0).sum())
        ramp = np.linspace(0.0, 1.0, step, endpoint=False, dtype=np.float64)
        curve = gains[:-1, None] + (gains[1:] - gains[:-1])[:, None] * ramp[None, :]
        curve = np.minimum(curve, needed[:, None]).reshape(-1)[:n]
        return np.clip(x * curve[:, None].astype(np.float32), -1.0, 1.0)


class AudioMixer:
    """Mixes the tracks over the recording's time line into 20 ms frames ``(pts in samples, float32 960 x 2)``.
    Used by one thread (the encoder's)."""

    def __init__(self, tracks: list[SourceTrack], timeline: RecordingTimeline, *, rate: int = RATE,
                 channels: int = CHANNELS, max_wait: float = MAX_WAIT, hold: float = HOLD):
        self.tracks = tracks
        self.timeline = timeline
        self.rate, self.channels = rate, channels
        self.max_wait = max_wait
        self._hold = round(hold * rate)
        self.limiter = PeakLimiter(rate=rate)
        self._pos: int | None = None  # next grid index to mix
        self._pending = None  # output samples not yet a whole frame
        self.emitted = 0  # output samples handed out (= pts of the next frame)
        self.silence_forced = 0  # grid samples mixed before every live input had delivered them

    def _index(self, t: float) -> int:
        return round(t * self.rate)

    def pump(self, now: float) -> list:
        """Mix what every live input has delivered (or what is older than ``max_wait``) up to ``now - GUARD``."""
        snap = self.timeline.snapshot()
        if snap.t0 is None:
            return []
        if self._pos is None:
            self._pos = self._index(snap.t0)
        hard = self._index(now - GUARD)
        covered = [t.covered() for t in self.tracks if not t.lost]
        target = hard if not covered or None in covered else min(min(covered), hard)
        forced = self._index(now - self.max_wait)
        if target < forced:
            self.silence_forced += forced - max(target, self._pos)
            target = forced
        return self._mix_until(target, snap)

    def finish(self, end_ms: int, *, wait_clock: Callable[[], float] = time.monotonic,
               sleeper: Callable[[float], None] = time.sleep) -> list:
        """The last frames: output up to ``end_ms`` exactly (the video's end), padded to a whole frame. Waits up to
        ``max_wait`` seconds of ``wait_clock`` for the inputs to deliver the end (the readers run in real time, so
        this wait is measured in real time even when the recording's clock is a test's)."""
        snap = self.timeline.snapshot()
        if snap.t0 is None:
            return []
        if self._pos is None:
            self._pos = self._index(snap.t0)
        end_out = end_ms * self.rate // 1000
        end = self._grid_end(snap, end_out)
        deadline = wait_clock() + self.max_wait
        while wait_clock() < deadline:
            covered = [t.covered() for t in self.tracks if not t.lost]
            if all(c is not None and c >= end for c in covered):
                break
            sleeper(0.01)
        frames = self._mix_until(max(end, self._pos), snap)
        np = lazy_numpy()
        pending = self._pending if self._pending is not None else np.zeros((0, self.channels), np.float32)
        have = self.emitted + len(pending)
        if have < end_out:
            pending = np.concatenate([pending, np.zeros((end_out - have, self.channels), np.float32)])
        elif have > end_out:
            pending = pending[:max(0, len(pending) - (have - end_out))]
        if len(pending):
            pad = (-len(pending)) % FRAME
            pending = np.concatenate([pending, np.zeros((pad, self.channels), np.float32)])
            for i in range(0, len(pending), FRAME):
                frames.append((self.emitted, pending[i:i + FRAME]))
                self.emitted += FRAME
        self._pending = None
        return frames

    def _grid_end(self, snap: TimelineSnapshot, end_out: int) -> int:
        """Grid index at which the output reaches ``end_out`` samples."""
        end = self._index(snap.t0) + end_out
        for start, stop in sorted(snap.pauses):
            s = self._index(start)
            if s >= end:
                break
            if stop is None:
                return s
            end += self._index(stop) - s
        return end

    def _mix_until(self, target: int, snap: TimelineSnapshot) -> list:
        np = lazy_numpy()

        a = self._pos
        if target <= a:
            return []
        mix = None
        for track in self.tracks:
            part = track.take(a, target)
            mix = part if mix is None else mix + part
        if mix is None:
            mix = np.zeros((target - a, self.channels), np.float32)
        keep = np.ones(target - a, dtype=bool)
        for start, stop in snap.pauses:
            s = self._index(start)
            e = self._index(stop) if stop is not None else target
            lo, hi = max(s, a), min(e, target)
            if lo < hi:
                keep[lo - a:hi - a] = False
        if not keep.all():
            mix = mix[keep]
        mix = self.limiter.process(mix)  # after the cut: what was played during a pause does not duck the rest
        self._pos = target
        pending = mix if self._pending is None else np.concatenate([self._pending, mix])
        frames = []
        ready = max(0, len(pending) - self._hold)  # finish() cuts the held part to the video's end
        whole = ready - ready % FRAME
        for i in range(0, whole, FRAME):
            frames.append((self.emitted, pending[i:i + FRAME]))
            self.emitted += FRAME
        self._pending = pending[whole:]
        return frames
