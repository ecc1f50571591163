"""Screen recorder: capture thread -> bounded queue -> encoder thread -> WebM file -> sink.

Threads (DESIGN.md "Threads"):
- **capture** (``snaplark-capture``): owns its ``ScreenCapture`` (mss connection). Paces grabs on deadlines
  ``t0 + k / fps`` from the injected monotonic ``clock``; a grab that is a little late happens at once and the
  grid is kept (the next ones catch up), but more than ``MAX_CATCH_UP_SECONDS`` behind, the missed deadlines are
  given up (counted in ``late_ticks``) instead of bursting. A frame byte-identical to the last queued one is not
  queued (VFR), except one keep-alive frame per ``keepalive_interval`` so clusters keep closing (durability and
  crash duration stay within ~1 s on a static screen). The queue put never blocks: a full queue drops the frame
  (``frames_dropped``).
  Frames that are queued are first converted to yuv420p on this thread, so conversion and encoding overlap.
- **encoder** (``snaplark-encoder``): owns the ``WebmVp9Writer`` and calls the sink (all sink calls come from here).

Timestamps: pts (ms) = capture time - t0 - time spent paused, so the output has no gap at a pause. At stop the
last frame is repeated so the file lasts until the stop moment (within one frame interval).

Audio (``audio=AudioSpec(mode="mic"|"system"|"both"|"none", mic_device=None, system_device=None)``, see
``tray/capture/audio.py``): ``start()`` opens the inputs (``UnknownAudioDevice`` for a named device that does not
exist; any other audio problem is reported once through ``on_audio_failure(AudioFailure)`` and the recording goes
on, video only if no input works); one reader thread per input (``snaplark-audio-<kind>``) places samples on the
same clock; the encoder thread mixes them over the same ``RecordingTimeline`` as the video (t0 and the pauses) and
encodes one Opus track into the same WebM. ``audio_input`` replaces the OS adapter (tests).

Sizes: yuv420p needs even dimensions, so an odd-sized region loses its rightmost column and/or bottom row
(``target.even_region``); the init metadata's ``resolution`` is the recorded (even) size.

Public methods (``prepare``, ``start``, ``pause``, ``resume``, ``request_stop``, ``stop``, ``wait``,
``elapsed``) may be called from any thread; one controller at a time. The constructor does no I/O and starts nothing.
"""

from __future__ import annotations

import enum
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tray_platform.base import DisplayInfo, Region, ScreenCapture

from tray_platform.base import AudioInput

from tray.capture.audio import AudioCapture, AudioFailure, AudioMixer, AudioSpec, AudioStats
from tray.capture.encoder import WebmVp9Writer
from tray.capture.errors import CaptureError, InvalidCaptureTarget, RecorderStateError
from tray.capture.sink import NullSink, RecordingSink
from tray.capture.target import even_region, resolve_target
from tray.capture.timeline import RecordingTimeline

log = logging.getLogger(__name__)

MAX_CATCH_UP_SECONDS = 0.25  # a late capture thread catches up missed deadlines up to this far behind
MAX_QUEUE_BYTES = 32 * 1024 * 1024  # frames waiting for the encoder, at most (RSS bound: 4 frames at 1080p)


class RecorderState(enum.Enum):
    IDLE = "idle"
    COUNTDOWN = "countdown"
    RECORDING = "recording"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    FAILED = "failed"  # aborted; what was written is kept and was handed to the sink


_TRANSITIONS = {
    RecorderState.IDLE: {RecorderState.COUNTDOWN, RecorderState.RECORDING, RecorderState.FAILED},
    RecorderState.COUNTDOWN: {RecorderState.RECORDING, RecorderState.STOPPING, RecorderState.FAILED},
    RecorderState.RECORDING: {RecorderState.PAUSED, RecorderState.STOPPING, RecorderState.FAILED},
    RecorderState.PAUSED: {RecorderState.RECORDING, RecorderState.STOPPING, RecorderState.FAILED},
    RecorderState.STOPPING: {RecorderState.FINISHED, RecorderState.FAILED},
    RecorderState.FINISHED: set(),
    RecorderState.FAILED: set(),
}


@dataclass
class RecordingStats:
    ticks: int = 0  # grabs made
    frames_queued: int = 0
    frames_skipped_identical: int = 0
    frames_keepalive: int = 0  # identical frames queued anyway (one per keepalive_interval)
    frames_dropped: int = 0  # queue full
    late_ticks: int = 0  # deadlines missed because a grab ran late
    frames_encoded: int = 0  # includes the repeated last frame
    durable_bytes: int = 0


@dataclass
class RecordingResult:
    path: Path
    total_bytes: int
    duration: float  # seconds, as written in the file
    metadata: dict
    stats: RecordingStats
    error: str | None = None  # set when the recording was aborted (state FAILED)
    frames: int = field(default=0)  # frames in the file
    audio: AudioStats | None = None  # None: the file has no audio track


@dataclass
class _Frame:
    pts_ms: int
    frame: object  # av.VideoFrame, yuv420p at the output size


@dataclass
class _End:
    end_ms: int  # output time of the stop moment
    error: str | None = None


class Recorder:
    """Records a region, one monitor, or all monitors into ``output_path`` (WebM VP9).

    ``sink`` receives durability notices; or give ``sink_factory(path, metadata)`` to build the sink (e.g. the
    upload engine's ``RecordingUpload``) once the init metadata is known, during ``start()``.
    """

    def __init__(self, output_path: str | os.PathLike, *, region: Region | None = None,
                 monitor: int | None = None, fps: int = 30, bitrate: int = 2_500_000, cursor: bool = False,
                 countdown: int = 0, max_duration: float = 0.0,
                 sink: RecordingSink | None = None,
                 sink_factory: Callable[[Path, dict], RecordingSink] | None = None,
                 display_info: DisplayInfo | None = None,
                 capture_factory: Callable[[], ScreenCapture] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleeper: Callable[[float], None] | None = None,
                 wall_clock: Callable[[], float] = time.time,
                 on_countdown: Callable[[int], None] | None = None,
                 on_state: Callable[[RecorderState], None] | None = None,
                 keepalive_interval: float = 1.0, durable_interval: float = 1.0,
                 max_queue_frames: int = 8,
                 audio: AudioSpec | None = None,
                 audio_input: AudioInput | None = None,
                 on_audio_failure: Callable[[AudioFailure], None] | None = None):
        if sink is not None and sink_factory is not None:
            raise ValueError("give sink or sink_factory, not both")
        if not isinstance(fps, int) or not 1 <= fps <= 120:
            raise InvalidCaptureTarget(f"fps must be an integer from 1 to 120, got {fps!r}")
        if not isinstance(bitrate, int) or bitrate < 10_000:
            raise InvalidCaptureTarget(f"bitrate must be an integer >= 10000 bit/s, got {bitrate!r}")
        if countdown < 0 or max_duration < 0:
            raise InvalidCaptureTarget("countdown and max_duration must not be negative")
        self.output_path = Path(output_path)
        self._region, self._monitor = region, monitor
        self.fps, self.bitrate, self.cursor = fps, bitrate, cursor
        self.countdown, self.max_duration = int(countdown), float(max_duration)
        self._sink = sink
        self._sink_factory = sink_factory
        self._display_info = display_info
        self._capture_factory = capture_factory
        self._clock = clock
        self._stop_event = threading.Event()
        self._sleeper = sleeper or self._interruptible_sleep
        self._wall_clock = wall_clock
        self._on_countdown = on_countdown
        self._on_state = on_state
        self._keepalive = keepalive_interval
        self._durable_interval = durable_interval
        self._max_queue_frames = max_queue_frames
        self.audio = audio or AudioSpec()
        self._audio_input = audio_input
        self._on_audio_failure = on_audio_failure
        self._audio: AudioCapture | None = None  # set in start() when an input works
        self._timeline = RecordingTimeline()

        self._lock = threading.Lock()
        self._state = RecorderState.IDLE
        self._done = threading.Event()
        self._resumed = threading.Condition(self._lock)
        self._paused_total = 0.0
        self._pause_started: float | None = None
        self._t0: float | None = None
        self.region: Region | None = None
        self.metadata: dict | None = None
        self.stats = RecordingStats()
        self._result: RecordingResult | None = None
        self._queue: queue.Queue | None = None
        self._threads: list[threading.Thread] = []
        self._capture_error: str | None = None
        self.audio_stats: AudioStats | None = None

    # ----------------------------------------------------------------- control
    @property
    def state(self) -> RecorderState:
        return self._state

    def prepare(self) -> dict:
        """Validate the target against the display and return the init metadata. Idempotent. Raises
        ``InvalidCaptureTarget`` (bad region/monitor) or ``NoDisplayError``."""
        if self.metadata is not None:
            return self.metadata
        display = self._display_info
        if display is None:
            from tray.capture.backends import default_display_info

            display = default_display_info()
        region = even_region(resolve_target(display, self._region, self._monitor))
        ts = int(self._wall_clock() * 1000)
        self.region = region
        self.metadata = {
            "filename": self.output_path.name,
            "timestamp": ts,
            "fps": self.fps,
            "codec": "vp9",
            "bitrate": self.bitrate,
            "resolution": f"{region.width}x{region.height}",
        }
        return self.metadata

    def start(self) -> None:
        """Validate, open the file, build the sink, start the threads. Returns at once (the countdown, if any,
        runs on the capture thread)."""
        with self._lock:
            if self._state is not RecorderState.IDLE or self._threads:
                raise RecorderStateError(f"cannot start a recorder in state {self._state.value}")
        metadata = self.prepare()
        if self._capture_factory is None:
            from tray.capture.backends import default_capture_factory

            self._capture_factory = default_capture_factory(cursor=self.cursor)
        region = self.region
        audio = None
        if self.audio.kinds:
            audio = AudioCapture(self.audio, audio_input=self._audio_input, clock=self._clock,
                                 on_failure=self._on_audio_failure)
            if not audio.open():  # raises UnknownAudioDevice; other problems were reported
                audio = None
        writer = WebmVp9Writer(self.output_path, region.width, region.height, fps=self.fps, bitrate=self.bitrate,
                               on_durable=self._durable, clock=self._clock,
                               durable_interval=self._durable_interval,
                               audio_bitrate=self.audio.bitrate if audio else None)
        try:
            writer.open()
        except BaseException:
            if audio:
                audio.close_unstarted()
            raise
        if self._sink is None:
            try:
                self._sink = (self._sink_factory(self.output_path, dict(metadata)) if self._sink_factory
                              else NullSink())
            except BaseException:
                writer.abort()
                if audio:
                    audio.close_unstarted()
                self.output_path.unlink(missing_ok=True)
                raise
        self._audio = audio
        frame_bytes = region.width * region.height * 3 // 2  # queued frames are yuv420p
        maxsize = max(2, min(self._max_queue_frames, MAX_QUEUE_BYTES // max(1, frame_bytes)))
        self._queue = queue.Queue(maxsize=maxsize)
        self._set_state(RecorderState.COUNTDOWN if self.countdown else RecorderState.RECORDING)
        self._threads = [
            threading.Thread(target=self._capture_loop, args=(writer,), name="snaplark-capture", daemon=True),
            threading.Thread(target=self._encode_loop, args=(writer,), name="snaplark-encoder", daemon=True),
        ]
        for t in self._threads:
            t.start()
        if audio:
            audio.start()

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

    def stop(self, timeout: float = 60.0) -> RecordingResult | None:
        """Stop (idempotent), wait for the file to be closed and the sink told, return the result (None if the
        recording ended before its first frame)."""
        self.request_stop()
        if not self.wait(timeout):
            raise CaptureError(f"recorder did not finish within {timeout} s")
        return self._result

    def request_stop(self) -> None:
        """Ask the recording to end and return at once (safe from callbacks and signal handlers); ``wait()`` or
        ``stop()`` then gives the result."""
        with self._lock:
            if self._state is RecorderState.IDLE:
                raise RecorderStateError("recorder was never started")
            if self._state in (RecorderState.COUNTDOWN, RecorderState.RECORDING, RecorderState.PAUSED):
                self._transition(RecorderState.STOPPING)
                self._resumed.notify_all()
                publish = True
            else:
                publish = False
            self._stop_event.set()
        if publish:
            self._publish(RecorderState.STOPPING)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the recording has ended (stop, max duration or error) and the sink was told."""
        if not self._done.wait(timeout):
            return False
        for t in self._threads:
            t.join(timeout)
        return True

    @property
    def result(self) -> RecordingResult | None:
        return self._result

    def elapsed(self) -> float:
        """Seconds of output recorded so far (pauses excluded; 0 before the first frame)."""
        with self._lock:
            if self._t0 is None:
                return 0.0
            now = self._pause_started if self._pause_started is not None else self._clock()
            return max(0.0, now - self._t0 - self._paused_total)

    # --------------------------------------------------------------- internals
    def _interruptible_sleep(self, seconds: float) -> None:
        self._stop_event.wait(seconds)

    def _transition(self, new: RecorderState) -> None:  # caller holds the lock
        if new not in _TRANSITIONS[self._state]:
            raise RecorderStateError(f"illegal transition {self._state.value} -> {new.value}")
        self._state = new

    def _set_state(self, new: RecorderState) -> bool:
        with self._lock:
            if new not in _TRANSITIONS[self._state]:
                return False
            self._state = new
        self._publish(new)
        return True

    def _publish(self, state: RecorderState) -> None:
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:  # noqa: BLE001 - an observer must not break recording
                log.exception("state observer failed")

    def _durable(self, nbytes: int) -> None:
        self.stats.durable_bytes = nbytes
        try:
            self._sink.durable(nbytes)
        except Exception:  # noqa: BLE001 - a sink failure must not stop the recording (the file is the spool)
            log.exception("recording sink failed on durable(%d)", nbytes)

    def _output_ms(self, t: float) -> int:
        return round((t - self._t0 - self._paused_total) * 1000)

    def _stopping(self) -> bool:
        return self._stop_event.is_set()

    # capture thread -----------------------------------------------------------
    def _capture_loop(self, writer: WebmVp9Writer) -> None:
        end = _End(0)
        try:
            if self.countdown:
                for n in range(self.countdown, 0, -1):
                    if self._stopping():
                        break
                    if self._on_countdown is not None:
                        self._on_countdown(n)
                    self._sleeper(1.0)
                if not self._set_state(RecorderState.RECORDING):
                    end.end_ms = -1  # stopped during the countdown
                    return
            end = self._grab_frames(writer)
        except Exception as exc:  # noqa: BLE001 - becomes sink.failed + a clean finish
            log.exception("capture failed")
            end.error = f"capture failed: {type(exc).__name__}: {exc}"
            if self._t0 is not None:
                end.end_ms = self._output_ms(self._clock())
        finally:
            self._put_end(end)

    def _grab_frames(self, writer: WebmVp9Writer) -> _End:
        capture = self._capture_factory()
        try:
            region = self.region
            interval = 1.0 / self.fps
            prev: bytes | bytearray | None = None
            last_queued_at = float("-inf")
            stats = self.stats
            max_ms = round(self.max_duration * 1000)
            max_lag = max(MAX_CATCH_UP_SECONDS, 2 * interval)
            convert = writer.converter()
            self._t0 = next_tick = self._clock()
            self._timeline.start(self._t0)
            while True:
                with self._lock:
                    was_paused = False
                    while self._state is RecorderState.PAUSED:
                        was_paused = True
                        self._resumed.wait(0.5)
                    if self._state is not RecorderState.RECORDING:
                        stop_at = self._clock()
                        break
                    paused_total = self._paused_total
                now = self._clock()
                if was_paused:
                    next_tick = now  # deadlines restart at resume
                if self.max_duration and round((now - self._t0 - paused_total) * 1000) >= max_ms:
                    stop_at = self._t0 + paused_total + self.max_duration
                    self._set_state(RecorderState.STOPPING)
                    break
                if now < next_tick:
                    self._sleeper(next_tick - now)
                    continue
                if now - next_tick > max_lag:  # far behind: give up the missed deadlines rather than burst
                    missed = int((now - next_tick) / interval)
                    stats.late_ticks += missed
                    next_tick += missed * interval
                next_tick += interval  # a little late: grab now and keep the grid (catches up, like x11grab)
                width, height, data = capture.grab(region)
                stats.ticks += 1
                pts = round((now - self._t0 - paused_total) * 1000)
                if prev is not None and data == prev:
                    if now - last_queued_at < self._keepalive - 1e-6:
                        stats.frames_skipped_identical += 1
                        continue
                    stats.frames_keepalive += 1
                if self._queue.full():  # only this thread puts, so a put after this check cannot block
                    stats.frames_dropped += 1
                    continue
                self._queue.put_nowait(_Frame(pts, convert(width, height, data)))
                stats.frames_queued += 1
                prev, last_queued_at = data, now
            with self._lock:
                if self._pause_started is not None:  # stopped while paused: the pause is not part of the video
                    stop_at = self._pause_started
            if self.max_duration:
                stop_at = min(stop_at, self._t0 + self._paused_total + self.max_duration)
            return _End(self._output_ms(stop_at))
        finally:
            capture.close()

    def _put_end(self, end: _End) -> None:
        while True:
            try:
                self._queue.put(end, timeout=0.5)
                return
            except queue.Full:
                if not self._threads[1].is_alive():
                    return

    # encoder thread -----------------------------------------------------------
    def _encode_loop(self, writer: WebmVp9Writer) -> None:
        error: str | None = None
        end: _End | None = None
        last: _Frame | None = None
        mixer = self._audio.mixer(self._timeline) if self._audio else None
        wait = 0.02 if mixer else 0.1  # audio is mixed between frames: wake up at least every 20 ms
        try:
            while True:
                try:
                    item = self._queue.get(timeout=wait)
                except queue.Empty:
                    item = None
                if mixer is not None:
                    self._encode_audio(writer, mixer.pump(self._clock()))
                if item is None:
                    writer.sync_if_due()
                    continue
                if isinstance(item, _End):
                    end = item
                    break
                writer.encode_frame(item.frame, item.pts_ms)
                self.stats.frames_encoded = writer.frames_encoded
                last = item
            error = end.error
            if last is not None:
                # Repeat the last frame so the file lasts until the stop moment (the muxer's duration is the last
                # pts + one frame interval).
                repeat_at = end.end_ms - writer._frame_ms
                if repeat_at > last.pts_ms:
                    writer.encode_frame(last.frame, repeat_at)
                    self.stats.frames_encoded = writer.frames_encoded
                if mixer is not None:  # audio up to the same end
                    self._encode_audio(writer, mixer.finish(end.end_ms))
                    self._stop_audio(mixer, writer)
                total = writer.close()
            else:
                self._stop_audio(mixer)
                total = writer.abort()
        except Exception as exc:  # noqa: BLE001 - disk full, encoder error: stop cleanly, keep what exists
            log.exception("encoding/writing failed")
            error = f"writing the recording failed: {type(exc).__name__}: {exc}"
            self._stop_event.set()
            with self._lock:
                if self._state in (RecorderState.COUNTDOWN, RecorderState.RECORDING, RecorderState.PAUSED):
                    self._transition(RecorderState.STOPPING)
                    self._resumed.notify_all()
            self._drain_until_end()
            self._stop_audio(mixer)
            total = writer.abort() if not writer.closed else os.path.getsize(self.output_path)
        self._deliver(writer, total, error)

    def _encode_audio(self, writer: WebmVp9Writer, frames: list) -> None:
        for pts, samples in frames:
            writer.encode_audio(samples, pts)

    def _stop_audio(self, mixer: AudioMixer | None, writer: WebmVp9Writer | None = None) -> None:
        audio = self._audio
        if audio is None:
            return
        audio.stop()  # idempotent
        if mixer is not None:
            audio.stats.silence_forced_frames = mixer.silence_forced
        if writer is not None:
            audio.stats.frames_encoded = writer.audio_frames_encoded
        self.audio_stats = audio.stats

    def _drain_until_end(self) -> None:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            try:
                if isinstance(self._queue.get(timeout=0.2), _End):
                    return
            except queue.Empty:
                if not self._threads[0].is_alive():
                    return

    def _deliver(self, writer: WebmVp9Writer, total: int, error: str | None) -> None:
        sink = self._sink
        frames = writer.frames_encoded
        try:
            if frames == 0:
                reason = error or "recording ended before the first frame"
                try:
                    self.output_path.unlink()
                except OSError:
                    pass
                self._result = None
                sink.failed(reason)
            else:
                duration = writer.end_ms / 1000.0
                self._result = RecordingResult(self.output_path, total, duration, dict(self.metadata),
                                               self.stats, error, frames,
                                               self._audio.stats if self._audio else None)
                if error:
                    if total > writer.durable_bytes:  # abort() fsynced what reached the disk; it never changes now
                        self._durable(total)
                    sink.failed(error)
                sink.finished(total, duration, dict(self.metadata))
        except Exception:  # noqa: BLE001
            log.exception("recording sink failed")
        finally:
            with self._lock:
                final = RecorderState.FAILED if (error or frames == 0) else RecorderState.FINISHED
                if self._state not in (RecorderState.FINISHED, RecorderState.FAILED):
                    if self._state is not RecorderState.STOPPING:
                        self._state = RecorderState.STOPPING
                    self._state = final
            self._publish(final)
            self._done.set()
