"""One audio input's samples on the recording clock's sample grid: holes stay silence, drift is nudged back.

Every block an OS adapter delivers carries the ``clock()`` time its first sample was captured
(``AudioBlock.captured_at``). :class:`SourceTrack` places blocks on one sample grid of that clock
(index = round(t * 48000)) and keeps a source continuous while its timestamps agree with its sample count; a source
that delivered nothing for a while (a silent loopback, a stalled device) jumps ahead and the hole stays silence,
time is never compressed; a source whose clock drifts is nudged back by inserting or dropping a few ms. The mixer
(:mod:`tray.capture.audio_mixer`) takes the grid back out, silence where the input delivered nothing.

A microphone's track has a :class:`~tray.capture.mic_control.MicControl` (``mic``): ``add`` shows each placed
block to its level meter and ``take`` writes silence over the spans the user muted (on the same grid, so the mute
is sample-exact on the recording clock).

Threading: ``add`` from the input's reader thread, ``covered``/``take`` from the mixer (the encoder thread),
``mark_lost`` from the reader; one lock inside.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from tray_platform.base import AudioBlock, AudioDevice

RATE = 48_000  # Opus's native rate; every input is opened at it (the OS resamples)
CHANNELS = 2
JUMP_SECONDS = 0.05  # a block this far from where its sample count puts it: the source had a hole (or overlap)
DRIFT_SECONDS = 0.01  # smaller steady offsets than this are left alone (latency reports wander by a few ms)
DRIFT_WINDOW = 50  # blocks; the smallest offset over them is the source's real offset (delays only add)


def lazy_numpy():
    """numpy, imported on first use (``import tray`` stays light) and without OpenBLAS threads (see
    ``WebmVp9Writer.converter``)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy

    return numpy


@dataclass
class TrackStats:
    frames_in: int = 0  # samples delivered by the input
    blocks: int = 0
    jumps: int = 0  # holes filled with silence (or overlaps) at a timestamp discontinuity
    drift_corrections: int = 0
    drift_frames: int = 0  # net samples inserted (+) or dropped (-) by drift corrections
    late_frames: int = 0  # samples that came after the mixer had passed their place (dropped)
    lost: str | None = None  # why the input stopped, if it did


class SourceTrack:
    """One input's samples on the clock's sample grid (see the module docstring). ``add`` from the input's reader
    thread, ``covered``/``take`` from the mixer; one lock inside."""

    def __init__(self, kind: str, device: AudioDevice, *, rate: int = RATE, channels: int = CHANNELS,
                 mic: Any = None):
        self.kind, self.device = kind, device
        self.mic = mic  # tray.capture.mic_control.MicControl of a microphone: mute spans and the level meter
        self.rate, self.channels = rate, channels
        self.stats = TrackStats()
        self._lock = threading.Lock()
        self._segments: deque = deque()  # (start index, float32 array frames x channels), in placement order
        self._next: int | None = None  # grid index where the next block goes if the source is continuous
        self._offsets: list[int] = []
        self._consumed: int | None = None  # the mixer took everything before this index
        self._jump = round(JUMP_SECONDS * rate)
        self._drift = round(DRIFT_SECONDS * rate)
        self.lost = False

    def add(self, block: AudioBlock) -> None:
        np = lazy_numpy()

        data = np.frombuffer(block.samples, dtype=np.float32, count=block.frames * self.channels)
        data = data.reshape(block.frames, self.channels)
        measured = round(block.captured_at * self.rate)
        with self._lock:
            self.stats.frames_in += block.frames
            self.stats.blocks += 1
            start = self._place(measured, block.frames)
            if self._consumed is not None and start < self._consumed:
                cut = min(block.frames, self._consumed - start)
                self.stats.late_frames += cut
                data, start = data[cut:], start + cut
            if len(data):
                self._segments.append((start, data))
        if self.mic is not None and len(data):
            self.mic.observe(start, data)

    def _place(self, measured: int, frames: int) -> int:  # caller holds the lock
        if self._next is None:
            self._next = measured
        offset = measured - self._next
        if abs(offset) > self._jump:
            self._next = measured
            self._offsets.clear()
            self.stats.jumps += 1
        else:
            self._offsets.append(offset)
            if len(self._offsets) >= DRIFT_WINDOW:
                low, high = min(self._offsets), max(self._offsets)
                shift = low if low > self._drift else high if high < -self._drift else 0
                if shift:
                    self._next += shift
                    self.stats.drift_corrections += 1
                    self.stats.drift_frames += shift
                self._offsets.clear()
        start = self._next
        self._next += frames
        return start

    def mark_lost(self, reason: str) -> None:
        with self._lock:
            self.lost = True
            self.stats.lost = reason
        if self.mic is not None:
            self.mic.mark_lost()

    def covered(self) -> int | None:
        """Grid index up to which this input has delivered (None: nothing yet)."""
        with self._lock:
            return self._next

    def take(self, a: int, b: int):
        """Samples for grid [a, b) (silence where the input delivered nothing, or where a microphone was muted);
        forgets everything before b."""
        np = lazy_numpy()

        out = np.zeros((b - a, self.channels), dtype=np.float32)
        with self._lock:
            keep: deque = deque()
            for start, data in self._segments:
                end = start + len(data)
                lo, hi = max(start, a), min(end, b)
                if lo < hi:
                    out[lo - a:hi - a] = data[lo - start:hi - start]
                if end > b:
                    keep.append((max(start, b), data[max(0, b - start):]))
            self._segments = keep
            self._consumed = b
        if self.mic is not None:
            for lo, hi in self.mic.muted_spans(a, b):
                out[lo - a:hi - a] = 0.0
        return out
