"""The microphone's mute switch and level meter while recording (issue 14: the control bar's mute toggle and meter).

Mute is kept as spans of the recording clock, the clock every audio block is stamped with: ``set_muted`` stamps
``clock()`` when it is called, and the microphone's :class:`~tray.capture.audio_track.SourceTrack` writes silence
for the grid samples inside a muted span when the mixer takes them (:meth:`MicControl.muted_spans`). So the mute
starts and ends at the instant the user clicked, to the sample, whatever the input's latency (its samples are placed
by capture time, and the mixer takes them later); the microphone's part of the track is silence, not a gap, and the
other input (system sound) goes on untouched.

The meter: the microphone's reader thread reports each block (:meth:`MicControl.observe`); ``level()`` is the peak
(0..1) of the last ``METER_WINDOW`` seconds the input delivered, 0 while muted (and for what was captured before the
last unmute), when the input delivered nothing for ``STALE`` seconds, or once it is lost.

Threading: ``set_muted``/``toggle``/``muted``/``level`` from any thread (the UI polls them on its own thread);
``observe``/``mark_lost`` from the input's reader thread; ``muted_spans`` from the mixer (the encoder thread). One
lock inside, never held while calling out.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

from tray.capture.audio_track import RATE, lazy_numpy

METER_WINDOW = 0.1  # s of the newest delivered audio the meter shows the peak of
METER_CHUNK = 0.01  # s: the meter keeps one peak per this much audio
STALE = 0.5  # s: an input that delivered nothing for this long reads 0 (a stalled or suspended device)


class MicControl:
    """Mute switch + level meter of one recording's microphone (see the module docstring)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, rate: int = RATE):
        self._clock = clock
        self.rate = rate
        self._lock = threading.Lock()
        self._spans: list[list] = []  # [start index, end index or None], in order; the last may be open
        self._unmuted_at: int | None = None  # grid index of the last unmute
        self._chunk = max(1, round(METER_CHUNK * rate))
        self._peaks: deque = deque(maxlen=int(4 * METER_WINDOW / METER_CHUNK) + 4)  # (start, end, peak)
        self._lost = False

    def _index(self, t: float) -> int:
        return round(t * self.rate)

    # ------------------------------------------------------------------ the switch (any thread)
    @property
    def muted(self) -> bool:
        with self._lock:
            return bool(self._spans) and self._spans[-1][1] is None

    def set_muted(self, muted: bool) -> bool:
        """Mute or unmute from now (``clock()``); returns the new state. Setting the current state does nothing."""
        now = self._index(self._clock())
        with self._lock:
            is_muted = bool(self._spans) and self._spans[-1][1] is None
            if muted and not is_muted:
                self._spans.append([now, None])
            elif not muted and is_muted:
                self._spans[-1][1] = max(now, self._spans[-1][0])
                self._unmuted_at = now
            return muted

    def toggle(self) -> bool:
        """Flip the switch; returns the new state."""
        with self._lock:
            muted = bool(self._spans) and self._spans[-1][1] is None
        return self.set_muted(not muted)

    # ------------------------------------------------------------------ the mixer (encoder thread)
    def muted_spans(self, a: int, b: int) -> list[tuple[int, int]]:
        """The muted parts of grid ``[a, b)`` as ``(lo, hi)`` grid indices; forgets spans that ended before ``a``
        (the mixer never goes back)."""
        with self._lock:
            while self._spans and self._spans[0][1] is not None and self._spans[0][1] <= a:
                self._spans.pop(0)
            out = []
            for start, end in self._spans:
                lo, hi = max(start, a), min(b if end is None else end, b)
                if lo < hi:
                    out.append((lo, hi))
            return out

    # ------------------------------------------------------------------ the meter
    def observe(self, start: int, data) -> None:
        """The reader thread placed ``data`` (frames x channels, float32) at grid index ``start``."""
        np = lazy_numpy()

        n = len(data)
        if not n:
            return
        step = self._chunk
        whole = -(-n // step)
        peaks = np.zeros(whole * step, dtype=np.float32)
        peaks[:n] = np.abs(data).max(axis=1)
        per_chunk = peaks.reshape(whole, step).max(axis=1)
        with self._lock:
            for k, peak in enumerate(per_chunk.tolist()):
                lo = start + k * step
                self._peaks.append((lo, min(lo + step, start + n), peak))

    def mark_lost(self) -> None:
        with self._lock:
            self._lost = True

    def level(self) -> float:
        """Peak (0..1) of the newest ``METER_WINDOW`` s the microphone delivered, as recorded: 0 while muted."""
        now = self._index(self._clock())
        with self._lock:
            if self._lost or not self._peaks or (self._spans and self._spans[-1][1] is None):
                return 0.0
            newest = self._peaks[-1][1]
            if now - newest > STALE * self.rate:
                return 0.0
            since = max(newest - round(METER_WINDOW * self.rate), self._unmuted_at or newest - 10 * self.rate)
            return min(1.0, max((p for s, e, p in self._peaks if s >= since), default=0.0))
