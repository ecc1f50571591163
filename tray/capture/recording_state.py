"""What a recorder's control calls and its two threads share: the state machine, the output clock and the counters.

:class:`RecorderControl` owns the :class:`RecorderState` (an explicit transition table; an illegal transition
raises ``RecorderStateError``), the stop request, and the output clock: output time of an instant ``t`` (ms) =
``t - t0 -`` time spent paused, so the output has no gap at a pause. It keeps the shared
:class:`~tray.capture.timeline.RecordingTimeline` (what the audio mixer cuts) in step with its own pause accounting.
Every state change is published through the ``publish`` callback given at construction, outside the lock.

Threading: every method may be called from any thread (the recorder's control calls, the capture thread, the
encoder thread); one lock inside, and a Condition on it that wakes a capture thread waiting out a pause.
:class:`RecordingStats` fields are each written by one thread (capture or encoder) and read by anyone.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Callable

from tray.capture.errors import RecorderStateError
from tray.capture.timeline import RecordingTimeline


class RecorderState(enum.Enum):
    IDLE = "idle"
    COUNTDOWN = "countdown"
    RECORDING = "recording"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    FAILED = "failed"  # aborted; what was written is kept and was handed to the sink


TRANSITIONS = {
    RecorderState.IDLE: {RecorderState.COUNTDOWN, RecorderState.RECORDING, RecorderState.FAILED},
    RecorderState.COUNTDOWN: {RecorderState.RECORDING, RecorderState.STOPPING, RecorderState.FAILED},
    RecorderState.RECORDING: {RecorderState.PAUSED, RecorderState.STOPPING, RecorderState.FAILED},
    RecorderState.PAUSED: {RecorderState.RECORDING, RecorderState.STOPPING, RecorderState.FAILED},
    RecorderState.STOPPING: {RecorderState.FINISHED, RecorderState.FAILED},
    RecorderState.FINISHED: set(),
    RecorderState.FAILED: set(),
}

_ACTIVE = (RecorderState.COUNTDOWN, RecorderState.RECORDING, RecorderState.PAUSED)


@dataclass
class RecordingStats:
    ticks: int = 0  # deadlines served: grabs made + grabs_skipped_unchanged
    grabs_skipped_unchanged: int = 0  # deadlines with no grab: the backend said nothing changed (X DAMAGE)
    frames_queued: int = 0
    frames_skipped_identical: int = 0
    frames_keepalive: int = 0  # identical frames queued anyway (one per keepalive_interval)
    frames_dropped: int = 0  # queue full
    frames_converted_partial: int = 0  # only the damaged rectangles converted (tray.capture.damage_convert)
    frames_redrawn: int = 0  # no grab, only an overlay drawn again (the webcam bubble on a still screen)
    late_ticks: int = 0  # deadlines missed because a grab ran late
    frames_encoded: int = 0  # includes the repeated last frame
    durable_bytes: int = 0


@dataclass(frozen=True)
class PauseCheck:
    """What the capture thread learns before each grab (:meth:`RecorderControl.wait_while_paused`)."""

    was_paused: bool  # it waited out a pause: its deadlines restart now
    paused_total: float  # seconds spent paused so far
    stopped_at: float | None  # the clock when it saw the recording no longer running; None = record on


class RecorderControl:
    def __init__(self, clock: Callable[[], float], timeline: RecordingTimeline,
                 publish: Callable[[RecorderState], None]) -> None:
        self._clock = clock
        self._timeline = timeline
        self._publish = publish
        self._lock = threading.Lock()
        self._resumed = threading.Condition(self._lock)
        self._state = RecorderState.IDLE
        self._stop_event = threading.Event()
        self._paused_total = 0.0
        self._pause_started: float | None = None
        self._t0: float | None = None

    # ------------------------------------------------------------------------------------------- state
    @property
    def state(self) -> RecorderState:
        return self._state

    def require_idle(self) -> None:
        """Raise ``RecorderStateError`` unless the recording was never started."""
        with self._lock:
            if self._state is not RecorderState.IDLE:
                raise RecorderStateError(f"cannot start a recorder in state {self._state.value}")

    def _transition(self, new: RecorderState) -> None:  # caller holds the lock
        if new not in TRANSITIONS[self._state]:
            raise RecorderStateError(f"illegal transition {self._state.value} -> {new.value}")
        self._state = new

    def set_state(self, new: RecorderState) -> bool:
        """Move to ``new`` and publish it; False (nothing changes) when the table does not allow it now."""
        with self._lock:
            if new not in TRANSITIONS[self._state]:
                return False
            self._state = new
        self._publish(new)
        return True

    def pause(self) -> None:
        with self._lock:
            if self._state is RecorderState.PAUSED:
                return
            if self._state is not RecorderState.RECORDING:
                raise RecorderStateError(f"cannot pause in state {self._state.value}")
            self._pause_started = self._clock()
            self._timeline.pause(self._pause_started)
            self._transition(RecorderState.PAUSED)
        self._publish(RecorderState.PAUSED)

    def resume(self) -> None:
        with self._lock:
            if self._state is RecorderState.RECORDING:
                return
            if self._state is not RecorderState.PAUSED:
                raise RecorderStateError(f"cannot resume in state {self._state.value}")
            now = self._clock()
            self._paused_total += now - self._pause_started
            self._timeline.resume(now)
            self._pause_started = None
            self._transition(RecorderState.RECORDING)
            self._resumed.notify_all()
        self._publish(RecorderState.RECORDING)

    def request_stop(self) -> None:
        """Ask the recording to end (idempotent); returns at once."""
        with self._lock:
            if self._state is RecorderState.IDLE:
                raise RecorderStateError("recorder was never started")
            if self._state in _ACTIVE:
                self._transition(RecorderState.STOPPING)
                self._resumed.notify_all()
                publish = True
            else:
                publish = False
            self._stop_event.set()
        if publish:
            self._publish(RecorderState.STOPPING)

    def stop_for_error(self) -> None:
        """The encoder failed: end the capture too (STOPPING, not published: :meth:`finish` follows)."""
        self._stop_event.set()
        with self._lock:
            if self._state in _ACTIVE:
                self._transition(RecorderState.STOPPING)
                self._resumed.notify_all()

    def finish(self, failed: bool) -> None:
        """The file is closed and the sink told: FAILED or FINISHED (unless already there), published."""
        with self._lock:
            final = RecorderState.FAILED if failed else RecorderState.FINISHED
            if self._state not in (RecorderState.FINISHED, RecorderState.FAILED):
                if self._state is not RecorderState.STOPPING:
                    self._state = RecorderState.STOPPING
                self._state = final
        self._publish(final)

    def stop_requested(self) -> bool:
        return self._stop_event.is_set()

    def sleep(self, seconds: float) -> None:
        """Sleep that a stop request cuts short (the capture thread's default sleeper)."""
        self._stop_event.wait(seconds)

    # ------------------------------------------------------------------------------------ output clock
    @property
    def t0(self) -> float | None:
        """The clock at the first grab (output time 0); None before it."""
        return self._t0

    def start_output(self) -> float:
        """The first grab is now: output time 0 (for the video and the audio timeline). Returns ``t0``."""
        with self._lock:
            self._t0 = self._clock()
            self._timeline.start(self._t0)
            return self._t0

    def wait_while_paused(self) -> PauseCheck:
        """Block while paused (woken by resume or stop), then say whether to grab on."""
        with self._lock:
            was_paused = False
            while self._state is RecorderState.PAUSED:
                was_paused = True
                self._resumed.wait(0.5)
            stopped_at = self._clock() if self._state is not RecorderState.RECORDING else None
            return PauseCheck(was_paused, self._paused_total, stopped_at)

    def output_ms(self, t: float) -> int:
        """Output time (ms) of the instant ``t`` (after :meth:`start_output`)."""
        with self._lock:
            return round((t - self._t0 - self._paused_total) * 1000)

    def end_moment(self, stop_at: float, max_duration: float) -> float:
        """The instant the output ends for a capture that stopped at ``stop_at``: a pause going on at the stop is not
        part of the video, and the output never runs past ``max_duration`` seconds (0 = no limit)."""
        with self._lock:
            if self._pause_started is not None:
                stop_at = self._pause_started
            if max_duration:
                stop_at = min(stop_at, self._t0 + self._paused_total + max_duration)
            return stop_at

    def elapsed(self) -> float:
        """Seconds of output recorded so far (pauses excluded; 0 before the first frame)."""
        with self._lock:
            if self._t0 is None:
                return 0.0
            now = self._pause_started if self._pause_started is not None else self._clock()
            return max(0.0, now - self._t0 - self._paused_total)
