"""The recorder's encoder thread: queued frames and mixed audio into the writer (WebM or MP4), then one hand-over.

:class:`EncodeLoop` runs on ``snaplark-encoder`` and owns the :class:`~tray.capture.encoder.VideoWriter` from
``start()`` on. It takes :class:`~tray.capture.frame_pacing.QueuedFrame` items off the queue until the
:class:`~tray.capture.frame_pacing.EndOfRecording`; between frames (at least every 20 ms when there is audio) it pumps
the :class:`~tray.capture.audio.AudioMixer` over the same timeline as the video and encodes the audio frames. At the
end the last frame is repeated so the file lasts until the stop moment (within one frame interval), audio is mixed up
to the same end, and the file is closed -- or aborted when nothing was recorded. A writing error (disk full, encoder
error) stops the capture too, keeps what was written, and still ends in one hand-over.

The hand-over is ``deliver(total_bytes, error)``, called exactly once, last, on this thread: the recorder builds the
result and tells the sink there (every sink call comes from this thread).

Threading: :meth:`EncodeLoop.run` is the thread's body, the queue's only consumer.
"""

from __future__ import annotations

import logging
import os
import queue
import time
from pathlib import Path
from typing import Callable

from tray.capture.audio import AudioCapture, AudioMixer
from tray.capture.encoder import VideoWriter
from tray.capture.frame_pacing import EndOfRecording, QueuedFrame
from tray.capture.recording_state import RecorderControl, RecordingStats
from tray.capture.timeline import RecordingTimeline

log = logging.getLogger(__name__)

AUDIO_MIX_INTERVAL = 0.1  # s between mixes (and the longest the encoder thread sleeps with nothing to do)


class EncodeLoop:
    def __init__(self, *, writer: VideoWriter, frames: queue.Queue, control: RecorderControl,
                 stats: RecordingStats, audio: AudioCapture | None, timeline: RecordingTimeline,
                 clock: Callable[[], float], output_path: Path, capture_alive: Callable[[], bool],
                 deliver: Callable[[int, str | None], None]) -> None:
        self._writer = writer
        self._frames = frames
        self._control = control
        self._stats = stats
        self._audio = audio
        self._timeline = timeline
        self._clock = clock
        self._output_path = output_path
        self._capture_alive = capture_alive
        self._deliver = deliver

    def run(self) -> None:
        writer = self._writer
        error: str | None = None
        end: EndOfRecording | None = None
        last: QueuedFrame | None = None
        mixer = self._audio.mixer(self._timeline) if self._audio else None
        next_mix = float("-inf")
        try:
            while True:
                try:
                    item = self._frames.get(timeout=AUDIO_MIX_INTERVAL)
                except queue.Empty:
                    item = None
                if mixer is not None and (now := self._clock()) >= next_mix:
                    # audio is mixed between frames, in ~100 ms batches: numpy's per-call cost dominates 20 ms
                    # pieces (mixing at every frame cost ~2 % of a core more)
                    next_mix = now + AUDIO_MIX_INTERVAL
                    self._encode_audio(mixer.pump(now))
                if item is None:
                    writer.sync_if_due()
                    continue
                if isinstance(item, EndOfRecording):
                    end = item
                    break
                writer.encode_frame(item.frame, item.pts_ms)
                self._stats.frames_encoded = writer.frames_encoded
                last = item
            error = end.error
            if last is not None:
                # Repeat the last frame so the file lasts until the stop moment (the muxer's duration is the last
                # pts + one frame interval).
                repeat_at = end.end_ms - writer.frame_ms
                if repeat_at > last.pts_ms:
                    writer.encode_frame(last.frame, repeat_at)
                    self._stats.frames_encoded = writer.frames_encoded
                if mixer is not None:  # audio up to the same end
                    self._encode_audio(mixer.finish(end.end_ms))
                    self._stop_audio(mixer, with_frames=True)
                total = writer.close()
            else:
                self._stop_audio(mixer)
                total = writer.abort()
        except Exception as exc:  # noqa: BLE001 - disk full, encoder error: stop cleanly, keep what exists
            log.exception("encoding/writing failed")
            error = f"writing the recording failed: {type(exc).__name__}: {exc}"
            self._control.stop_for_error()
            self._drain_until_end()
            self._stop_audio(mixer)
            total = writer.abort() if not writer.closed else os.path.getsize(self._output_path)
        last = item = None  # the last frame (1080p: 3 MiB) is not kept past the hand-over
        self._deliver(total, error)
        self._give_back_heap()

    @staticmethod
    def _give_back_heap() -> None:
        """After the hand-over (``Recorder.wait()`` joins this thread, so it is done when ``wait()`` returns): the
        free pages the recording left in the C heap -- the capture thread's grabs and frames, the encoder's memory
        (the writer dropped it at close) -- go back to the OS now (``malloc_trim``) instead of at the tray's next
        idle-minute trim. Measured (benchmarks/recordings_memory.py, 720p): RSS after a recording 106-135 MiB
        without it, 73-75 MiB with it, the same as after the idle trim."""
        from tray_platform.memory import trim_heap

        trim_heap()  # never raises: False where there is no malloc_trim (not glibc)

    def _encode_audio(self, frames: list) -> None:
        for pts, samples in frames:
            self._writer.encode_audio(samples, pts)

    def _stop_audio(self, mixer: AudioMixer | None, *, with_frames: bool = False) -> None:
        audio = self._audio
        if audio is None:
            return
        audio.stop()  # idempotent
        if mixer is not None:
            audio.stats.silence_forced_frames = mixer.silence_forced
        if with_frames:
            audio.stats.frames_encoded = self._writer.audio_frames_encoded

    def _drain_until_end(self) -> None:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            try:
                if isinstance(self._frames.get(timeout=0.2), EndOfRecording):
                    return
            except queue.Empty:
                if not self._capture_alive():
                    return
