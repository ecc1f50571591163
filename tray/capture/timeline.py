"""The recording's time line: which ``clock()`` instants are in the output, shared by video and audio.

Output time of an instant ``t`` = ``t - t0 -`` (time spent paused before ``t``); instants inside a pause are not in
the output. The recorder stamps video frames with it and the audio mixer cuts the same pauses out of the sample
stream, so a pause cuts both at the same instant.

Threading: ``start``/``pause``/``resume`` from the recorder's control calls and capture thread, ``snapshot`` from
the encoder thread; one lock inside.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class TimelineSnapshot:
    t0: float | None  # None: recording (the first grab) has not started yet
    pauses: tuple[tuple[float, float | None], ...]  # (start, end); end None = still paused


class RecordingTimeline:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._pauses: list[tuple[float, float | None]] = []

    def start(self, t0: float) -> None:
        with self._lock:
            self._t0 = t0

    def pause(self, t: float) -> None:
        with self._lock:
            if not self._pauses or self._pauses[-1][1] is not None:
                self._pauses.append((t, None))

    def resume(self, t: float) -> None:
        with self._lock:
            if self._pauses and self._pauses[-1][1] is None:
                self._pauses[-1] = (self._pauses[-1][0], t)

    def snapshot(self) -> TimelineSnapshot:
        with self._lock:
            return TimelineSnapshot(self._t0, tuple(self._pauses))
