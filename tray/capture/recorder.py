"""Screen recorder: capture thread -> bounded queue -> encoder thread -> WebM or MP4 file -> sink.

:class:`Recorder` is the public face: it validates the target, opens the file and the sink, starts the threads and
takes the control calls; the parts live next to it:

- **capture** (``snaplark-capture``, :mod:`tray.capture.frame_pacing`): countdown, grabs paced on a deadline grid
  from the injected monotonic ``clock``, identical frames skipped (VFR, one keep-alive per ``keepalive_interval``),
  frames converted to yuv420p and put on the queue without ever blocking (a full queue drops the frame).
- **encoder** (``snaplark-encoder``, :mod:`tray.capture.encode_loop`): owns the writer (``format``: ``"webm"``
  VP9 + Opus, ``"mp4"`` H.264 + AAC in fragmented MP4; :mod:`tray.capture.encoder`); every sink call
  comes from this thread (:meth:`Recorder._deliver` runs there, once, at the end).
- **state and output clock** (:mod:`tray.capture.recording_state`): the state machine, pause accounting and the
  counters, shared by the control calls and both threads.

Timestamps: pts (ms) = capture time - t0 - time spent paused, so the output has no gap at a pause. At stop the
last frame is repeated so the file lasts until the stop moment (within one frame interval).

Audio (``audio=AudioSpec(mode="mic"|"system"|"both"|"none", mic_device=None, system_device=None)``, see
``tray/capture/audio.py``): ``start()`` opens the inputs (``UnknownAudioDevice`` for a named device that does not
exist; any other audio problem is reported once through ``on_audio_failure(AudioFailure)`` and the recording goes
on, video only if no input works); one reader thread per input (``snaplark-audio-<kind>``) places samples on the
same clock; the encoder thread mixes them over the same ``RecordingTimeline`` as the video (t0 and the pauses) and
encodes one audio track (Opus in WebM, AAC in MP4) into the same file. ``audio_input`` replaces the OS adapter (tests).

Sizes: yuv420p needs even dimensions, so an odd-sized region loses its rightmost column and/or bottom row
(``target.even_region``); the init metadata's ``resolution`` is the recorded (even) size.

Public methods (``prepare``, ``start``, ``pause``, ``resume``, ``request_stop``, ``stop``, ``wait``,
``elapsed``) may be called from any thread; one controller at a time. The constructor does no I/O and starts nothing.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tray_platform.base import AudioInput, DisplayInfo, Region, ScreenCapture

from tray.capture.audio import AudioCapture, AudioFailure, AudioSpec, AudioStats, MicControl
from tray.capture.encode_loop import EncodeLoop
from tray.capture.encoder import (DEFAULT_FORMAT, VideoWriter, format_of_path, make_writer,
                                  recording_format)
from tray.capture.errors import CaptureError, InvalidCaptureTarget, RecorderStateError
from tray.capture.frame_pacing import MAX_CATCH_UP_SECONDS, CaptureLoop
from tray.capture.recording_state import RecorderControl, RecorderState, RecordingStats
from tray.capture.sink import NullSink, RecordingSink
from tray.capture.target import even_region, resolve_target
from tray.capture.timeline import RecordingTimeline

__all__ = ["MAX_CATCH_UP_SECONDS", "MAX_QUEUE_BYTES", "Recorder", "RecorderState", "RecordingResult",
           "RecordingStats"]

log = logging.getLogger(__name__)

#: yuv420p frames waiting for the encoder, at most: 5 at 1080p (166 ms at 30 fps), 8 (max_queue_frames) at 720p.
#: Under load the queue is full most of the time (the encoder is slower than the grabs), so every frame
#: allowed here is resident: 32 MiB (8 at 1080p) cost 9 MiB more RSS for the same frames encoded.
MAX_QUEUE_BYTES = 16 * 1024 * 1024


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


class Recorder:
    """Records a region, one monitor, or all monitors into ``output_path`` (``format``: ``"webm"`` or ``"mp4"``;
    a path whose suffix names the other container is refused, so the file's name never lies about its content).

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
                 on_audio_failure: Callable[[AudioFailure], None] | None = None,
                 format: str = DEFAULT_FORMAT, webcam: Any = None,
                 camera_factory: Callable[[str, int], Any] | None = None):
        if sink is not None and sink_factory is not None:
            raise ValueError("give sink or sink_factory, not both")
        if not isinstance(fps, int) or not 1 <= fps <= 120:
            raise InvalidCaptureTarget(f"fps must be an integer from 1 to 120, got {fps!r}")
        if not isinstance(bitrate, int) or bitrate < 10_000:
            raise InvalidCaptureTarget(f"bitrate must be an integer >= 10000 bit/s, got {bitrate!r}")
        if countdown < 0 or max_duration < 0:
            raise InvalidCaptureTarget("countdown and max_duration must not be negative")
        try:
            self.format = recording_format(format)
        except ValueError as exc:
            raise InvalidCaptureTarget(str(exc)) from None
        self.output_path = Path(output_path)
        named = format_of_path(self.output_path)
        if named is not None and named != self.format.name:
            raise InvalidCaptureTarget(f"{self.output_path.name} names a {named} file but the format is "
                                       f"{self.format.name}; use a {self.format.extension} file name")
        self._region, self._monitor = region, monitor
        self.fps, self.bitrate, self.cursor = fps, bitrate, cursor
        self.countdown, self.max_duration = int(countdown), float(max_duration)
        self._sink = sink
        self._sink_factory = sink_factory
        self._display_info = display_info
        self._capture_factory = capture_factory
        self._clock = clock
        self._timeline = RecordingTimeline()
        self._control = RecorderControl(clock, self._timeline, self._publish)
        self._sleeper = sleeper or self._control.sleep
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
        self.webcam = webcam  # a tray.capture.webcam_bubble.WebcamSpec: the webcam bubble composited in
        self._camera_factory = camera_factory  # (device, diameter) -> a camera (tray.capture.webcam.Camera)
        self._camera: Any = None  # open from start() on; the capture loop's BubbleCapture closes it at the end

        self._done = threading.Event()
        self.region: Region | None = None
        self.metadata: dict | None = None
        self.stats = RecordingStats()
        self._result: RecordingResult | None = None
        self._queue: queue.Queue | None = None
        self._writer: VideoWriter | None = None
        self._threads: list[threading.Thread] = []
        self.audio_stats: AudioStats | None = None

    # ----------------------------------------------------------------- control
    @property
    def state(self) -> RecorderState:
        return self._control.state

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
            "codec": self.format.codec,
            "bitrate": self.bitrate,
            "resolution": f"{region.width}x{region.height}",
        }
        return self.metadata

    def start(self) -> None:
        """Validate, open the file, build the sink, start the threads. Returns at once (the countdown, if any,
        runs on the capture thread)."""
        self._control.require_idle()
        if self._threads:
            raise RecorderStateError(f"cannot start a recorder in state {self.state.value}")
        metadata = self.prepare()
        if self._capture_factory is None:
            from tray.capture.backends import default_capture_factory

            self._capture_factory = default_capture_factory(cursor=self.cursor)
        region = self.region
        capture_factory = self._capture_factory
        audio = None
        if self.audio.kinds:
            audio = AudioCapture(self.audio, audio_input=self._audio_input, clock=self._clock,
                                 on_failure=self._on_audio_failure)
            if not audio.open():  # raises UnknownAudioDevice; other problems were reported
                audio = None
        if self.webcam is not None:  # opened now: a camera that cannot be is told before anything is recorded
            try:
                capture_factory = self._with_bubble(capture_factory, region)
            except BaseException:
                if audio:
                    audio.close_unstarted()
                raise
        writer = make_writer(self.format.name, self.output_path, region.width, region.height, fps=self.fps,
                             bitrate=self.bitrate, on_durable=self._durable, clock=self._clock,
                             durable_interval=self._durable_interval,
                             audio_bitrate=self.audio.bitrate if audio else None)
        try:
            writer.open()
        except BaseException:
            if audio:
                audio.close_unstarted()
            self._close_camera()
            raise
        if self._sink is None:
            try:
                self._sink = (self._sink_factory(self.output_path, dict(metadata)) if self._sink_factory
                              else NullSink())
            except BaseException:
                writer.abort()
                if audio:
                    audio.close_unstarted()
                self._close_camera()
                self.output_path.unlink(missing_ok=True)
                raise
        self._audio = audio
        self._writer = writer
        frame_bytes = region.width * region.height * 3 // 2  # queued frames are yuv420p
        maxsize = max(2, min(self._max_queue_frames, MAX_QUEUE_BYTES // max(1, frame_bytes)))
        self._queue = queue.Queue(maxsize=maxsize)
        capture = CaptureLoop(control=self._control, frames=self._queue, stats=self.stats,
                              capture_factory=capture_factory, make_converter=writer.converter, region=region,
                              fps=self.fps, countdown=self.countdown, max_duration=self.max_duration,
                              keepalive=self._keepalive, clock=self._clock, sleeper=self._sleeper,
                              on_countdown=self._on_countdown, encoder_alive=lambda: self._threads[1].is_alive())
        encode = EncodeLoop(writer=writer, frames=self._queue, control=self._control, stats=self.stats, audio=audio,
                            timeline=self._timeline, clock=self._clock, output_path=self.output_path,
                            capture_alive=lambda: self._threads[0].is_alive(), deliver=self._deliver)
        self._control.set_state(RecorderState.COUNTDOWN if self.countdown else RecorderState.RECORDING)
        self._threads = [
            threading.Thread(target=capture.run, name="snaplark-capture", daemon=True),
            threading.Thread(target=encode.run, name="snaplark-encoder", daemon=True),
        ]
        for t in self._threads:
            t.start()
        if audio:
            audio.start()

    def _with_bubble(self, capture_factory: Callable[[], ScreenCapture], region: Region) -> Callable[[], Any]:
        """Open the webcam and return a capture factory whose grabs carry its bubble (webcam_bubble.py)."""
        from tray.capture.webcam_bubble import BubbleCapture

        spec = self.webcam
        diameter = spec.place(region.width, region.height)[2]
        if self._camera_factory is None:
            from tray.capture.webcam import Camera

            self._camera_factory = Camera
        camera = self._camera_factory(spec.device, diameter)
        camera.start()
        self._camera = camera
        return lambda: BubbleCapture(capture_factory(), camera, spec)

    def _close_camera(self) -> None:
        if self._camera is not None:
            self._camera.close()

    def pause(self) -> None:
        self._control.pause()

    def resume(self) -> None:
        self._control.resume()

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
        self._control.request_stop()

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
        return self._control.elapsed()

    @property
    def microphone(self) -> MicControl | None:
        """The microphone's mute switch and level meter (``tray.capture.mic_control``) once ``start()`` opened a
        microphone input; None without one. Any thread."""
        audio = self._audio
        return audio.microphone if audio is not None else None

    # ------------------------------------------------------------ observers and the sink
    def _publish(self, state: RecorderState) -> None:
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:  # noqa: BLE001 - an observer must not break recording
                log.exception("state observer failed")

    def _durable(self, nbytes: int) -> None:  # the writer's on_durable, on the encoder thread
        self.stats.durable_bytes = nbytes
        try:
            self._sink.durable(nbytes)
        except Exception:  # noqa: BLE001 - a sink failure must not stop the recording (the file is the spool)
            log.exception("recording sink failed on durable(%d)", nbytes)

    def _deliver(self, total: int, error: str | None) -> None:
        """The encoder thread's last act: the result, the sink told once, the final state published."""
        writer, sink = self._writer, self._sink
        self.audio_stats = self._audio.stats if self._audio else None
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
            self._control.finish(failed=bool(error or frames == 0))
            self._done.set()
