"""One recording from prepare to link: the :class:`~tray.capture.recorder.Recorder` (capture → encoder → file),
the upload it streams into while it records (or none), and the clock the UI shows.

The tray app (``tray/ui/desktop.py``) and ``snaplark record`` both drive recordings through this class, so what a
recording is — which file, which upload, when the clock runs — is written once; new sources (audio) and formats
plug in here through ``recorder_options``, which are passed to the Recorder as they are.

Life cycle: ``prepare()`` (validates the target, no file yet) → ``start()`` → ``pause()``/``resume()`` →
``stop()`` (or the recorder ends by itself: max duration, disk full; ``wait()`` tells) → ``link()`` waits for the
URL. Threading: ``start``/``pause``/``resume``/``stop``/``request_stop`` from any one thread at a time; ``elapsed``,
``paused``, ``microphone``, ``uploads`` and the ``on_state`` callback (called on recorder threads) from any thread.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol

from tray.recording.clock import ElapsedClock


class Uploader(Protocol):
    """What a RecordingSession needs of the upload engine."""

    def start_recording_upload(self, path: Path, metadata: dict | None = None) -> Any: ...


class RecordingSession:
    def __init__(self, path: Path, *, uploader: Uploader | None = None,
                 on_state: Callable[[Any], None] | None = None, on_upload: Callable[[Any], None] | None = None,
                 recorder_factory: Callable[..., Any] | None = None, clock: Callable[[], float] = time.monotonic,
                 **recorder_options: Any):
        """``uploader``: stream the file into ``uploader.start_recording_upload`` while recording (None: local
        only); ``on_upload(upload)`` is told when that upload exists (at ``start()``). ``on_state(RecorderState)`` is
        called on recorder threads after the clock was updated. ``clock``
        (monotonic seconds) paces the recorder and runs the elapsed clock: one clock for both.
        ``recorder_options`` go to the Recorder (region, monitor, fps, bitrate, cursor, countdown, max_duration,
        capture_factory, display_info, ...)."""
        if recorder_factory is None:
            from tray.capture.recorder import Recorder

            recorder_factory = Recorder
        self.path = Path(path)
        self.clock = ElapsedClock(clock)
        self._uploader = uploader
        self._on_state = on_state
        self._on_upload = on_upload
        self._lock = threading.Lock()
        self._uploads: list[Any] = []
        sink_factory = self._sink_factory if uploader is not None else None
        self.recorder = recorder_factory(self.path, sink_factory=sink_factory, on_state=self._state_changed,
                                         clock=clock, **recorder_options)

    # ------------------------------------------------------------------ control
    def prepare(self) -> dict:
        """Validate the target (region, monitor, display) before anything is written; returns the metadata."""
        return self.recorder.prepare()

    def start(self) -> None:
        self.recorder.start()

    def pause(self) -> None:
        self.recorder.pause()

    def resume(self) -> None:
        self.recorder.resume()

    def toggle_pause(self) -> None:
        from tray.capture.recorder import RecorderState

        if self.recorder.state is RecorderState.PAUSED:
            self.recorder.resume()
        elif self.recorder.state is RecorderState.RECORDING:
            self.recorder.pause()

    def stop(self, timeout: float = 60.0) -> Any:
        """Stop and close the file; returns the RecordingResult (None if nothing was recorded)."""
        return self.recorder.stop(timeout=timeout)

    def request_stop(self) -> None:
        self.recorder.request_stop()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the recorder has ended (stopped, or by itself)."""
        return self.recorder.wait(timeout)

    # ------------------------------------------------------------------ observation
    @property
    def region(self) -> Any:
        return self.recorder.region

    @property
    def metadata(self) -> dict | None:
        return self.recorder.metadata

    @property
    def result(self) -> Any:
        return self.recorder.result

    @property
    def state(self) -> Any:
        return self.recorder.state

    def elapsed(self) -> float:
        return self.clock.elapsed()

    @property
    def paused(self) -> bool:
        return self.clock.paused

    @property
    def microphone(self) -> Any:
        """The recording's microphone (``tray.capture.mic_control.MicControl``: mute, level), None without one."""
        return getattr(self.recorder, "microphone", None)

    @property
    def uploads(self) -> list[Any]:
        with self._lock:
            return list(self._uploads)

    def link(self, timeout: float | None = None, *, stop_on_login: bool = False) -> str:
        """Wait for the recording's upload and return its URL (``RecordingUpload.wait``'s errors)."""
        uploads = self.uploads
        if not uploads:
            raise RuntimeError("this recording is not being uploaded")
        return uploads[-1].wait(timeout, stop_on_login=stop_on_login)

    # ------------------------------------------------------------------ recorder callbacks
    def _sink_factory(self, path: Path, metadata: dict) -> Any:
        assert self._uploader is not None
        upload = self._uploader.start_recording_upload(path, metadata)
        with self._lock:
            self._uploads.append(upload)
        if self._on_upload is not None:
            self._on_upload(upload)
        return upload

    def _state_changed(self, state: Any) -> None:
        from tray.capture.recorder import RecorderState

        if state is RecorderState.RECORDING:
            self.clock.resume() if self.clock.started else self.clock.start()
        elif state in (RecorderState.PAUSED, RecorderState.STOPPING, RecorderState.FINISHED, RecorderState.FAILED):
            self.clock.pause()  # stopped: the clock keeps the recording's length
        if self._on_state is not None:
            self._on_state(state)
