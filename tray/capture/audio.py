"""Audio for recordings: the microphone and/or what the speakers play, mixed into one Opus track of the WebM.

API for wiring (the recorder does the rest)::

    from tray.capture.audio import AudioSpec, AudioFailure, UnknownAudioDevice, list_audio_devices
    rec = Recorder(path, ..., audio=AudioSpec(mode="both", mic_device=None, system_device=None),
                   on_audio_failure=lambda failure: post(lambda: notify(failure.message)))

- ``AudioSpec.mode``: ``"none"`` (no audio track), ``"mic"``, ``"system"``, ``"both"`` (mixed into one track, so
  a browser plays both). ``mic_device`` / ``system_device``: a device ``id`` or exact ``name`` from
  ``list_audio_devices()`` (``snaplark devices`` prints them); None = the OS default (the default microphone; the
  monitor of the default output).
- ``Recorder.start()`` raises ``UnknownAudioDevice`` (an ``InvalidCaptureTarget``: bad input, nothing written)
  when a named device does not exist; its message lists the devices.
- Everything else that goes wrong with audio never stops the recording: no audio server, no microphone, a device
  that disappears mid-recording. The recording goes on with the inputs that still work (video only if none works
  from the start: then the file has no audio track), and ``on_audio_failure(AudioFailure)`` is called once for
  what failed at start (all failed inputs in one call) and once for inputs lost later (inputs lost within
  ``LOSS_COALESCE`` of each other, as when the audio server goes away, in one call); lost inputs are silence from
  then on, so the track keeps its full length. It is called from the
  thread that called ``start()`` or from an audio reader thread: post to the UI, do not block.

The parts (every public name is importable from here too):

- :mod:`tray.capture.audio_devices` -- ``AudioSpec``, listing and choosing devices, ``UnknownAudioDevice``;
- :mod:`tray.capture.audio_track` -- ``SourceTrack``: one input's blocks placed on the clock's sample grid (timing
  rules of issue 14: holes stay silence, time is never compressed, drift is nudged back);
- :mod:`tray.capture.audio_mixer` -- ``AudioMixer`` (pauses cut like the video's, 20 ms frames, the end cut on the
  video's end) and ``PeakLimiter``;
- :mod:`tray.capture.mic_control` -- ``MicControl``: the microphone's mute switch (sample-exact on the recording
  clock: silence in the track, not a gap) and its level meter, for the control bar (``AudioCapture.microphone``);
- this module -- :class:`AudioCapture`: opening the inputs, their reader threads, failure reports.

Threads: one reader per input (``snaplark-audio-mic``, ``snaplark-audio-system``) owns its ``AudioStream`` and
only appends to its ``SourceTrack`` (a lock inside); the recorder's encoder thread owns the ``AudioMixer`` and
the Opus encoder.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from tray_platform.base import AudioDeviceLost, AudioInput, AudioStream, AudioUnavailable

from tray.capture.audio_devices import (  # noqa: F401 - re-exported: the audio API is imported from here
    MODES,
    OPUS_BITRATE,
    AudioSpec,
    UnknownAudioDevice,
    audio_spec,
    default_audio_input,
    list_audio_devices,
    resolve_devices,
)
from tray.capture.audio_mixer import FRAME, GUARD, HOLD, MAX_WAIT, AudioMixer, PeakLimiter  # noqa: F401
from tray.capture.mic_control import MicControl
from tray.capture.audio_track import (  # noqa: F401
    CHANNELS,
    DRIFT_SECONDS,
    DRIFT_WINDOW,
    JUMP_SECONDS,
    RATE,
    SourceTrack,
    TrackStats,
)
from tray.capture.timeline import RecordingTimeline

__all__ = [
    "CHANNELS", "DRIFT_SECONDS", "DRIFT_WINDOW", "FRAME", "GUARD", "HOLD", "JUMP_SECONDS", "LOSS_COALESCE",
    "MAX_WAIT", "MODES", "OPUS_BITRATE", "RATE", "READ_TIMEOUT",
    "AudioCapture", "AudioFailure", "AudioMixer", "AudioSpec", "AudioStats", "MicControl", "PeakLimiter",
    "SourceTrack", "TrackStats", "UnknownAudioDevice", "audio_spec", "default_audio_input", "list_audio_devices", "resolve_devices",
]

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.1
LOSS_COALESCE = 0.3  # s: inputs lost this close together (the audio server went away) make one report


@dataclass(frozen=True)
class AudioFailure:
    """What the user is told once: ``sources`` ("mic", "system") that stopped or never started, and why."""

    sources: tuple[str, ...]
    message: str
    at_start: bool


def _kind_label(kind: str) -> str:
    return "microphone" if kind == "mic" else "system sound"


@dataclass
class AudioStats:
    inputs: dict[str, str] = field(default_factory=dict)  # kind -> device id recording
    tracks: dict[str, TrackStats] = field(default_factory=dict)
    frames_encoded: int = 0  # 20 ms Opus frames
    silence_forced_frames: int = 0


class AudioCapture:
    """Opens the inputs of an ``AudioSpec`` and runs their reader threads; builds the mixer the encoder uses.

    ``open()`` (from the recorder's ``start()``): resolves and opens the inputs; raises ``UnknownAudioDevice``;
    reports inputs that cannot start through ``on_failure`` (one call) and returns whether any input works.
    ``start()`` starts the readers; ``stop()`` ends them (bounded) and closes the streams. ``microphone``: the
    :class:`MicControl` (mute, level) of the microphone input once ``open()`` opened one, else None."""

    def __init__(self, spec: AudioSpec, *, audio_input: AudioInput | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 on_failure: Callable[[AudioFailure], None] | None = None):
        self.spec = spec
        self._input = audio_input
        self._clock = clock
        self._on_failure = on_failure
        self._streams: dict[str, AudioStream] = {}
        self.tracks: list[SourceTrack] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.stats = AudioStats()
        self._report_lock = threading.Lock()
        self._reported: set[str] = set()
        self._losses: dict[str, str] = {}  # kind -> why, waiting to be reported together
        self._loss_reporter = False
        self.microphone: MicControl | None = None

    def open(self) -> bool:
        if not self.spec.kinds:
            return False
        problems: dict[str, str] = {}
        try:
            audio_input = self._input or default_audio_input()
            self._input = audio_input
        except AudioUnavailable as exc:
            self._report(self.spec.kinds, f"no audio: {exc}", at_start=True)
            return False
        chosen, problems = resolve_devices(self.spec, audio_input)  # UnknownAudioDevice propagates
        for kind, device in chosen.items():
            try:
                stream = audio_input.open(device.id, rate=RATE, channels=CHANNELS, clock=self._clock)
            except AudioUnavailable as exc:
                problems[kind] = str(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - an adapter bug must not stop the video
                log.exception("opening audio input %s failed", device.id)
                problems[kind] = f"{type(exc).__name__}: {exc}"
                continue
            self._streams[kind] = stream
            mic = MicControl(clock=self._clock) if kind == "mic" else None
            self.tracks.append(SourceTrack(kind, device, mic=mic))
            self.microphone = mic or self.microphone
            self.stats.inputs[kind] = device.id
        if problems:
            kinds = tuple(k for k in self.spec.kinds if k in problems)
            detail = "; ".join(f"{_kind_label(k)}: {problems[k]}" for k in kinds)
            rest = "recording without audio" if not self._streams else "recording the rest"
            self._report(kinds, f"cannot record {' and '.join(_kind_label(k) for k in kinds)} ({detail}); {rest}",
                         at_start=True)
        return bool(self._streams)

    def start(self) -> None:
        for track in self.tracks:
            t = threading.Thread(target=self._read_loop, args=(track, self._streams[track.kind]),
                                 name=f"snaplark-audio-{track.kind}", daemon=True)
            self._threads.append(t)
            t.start()

    def mixer(self, timeline: RecordingTimeline) -> AudioMixer:
        return AudioMixer(self.tracks, timeline)

    def stop(self, timeout: float = 2.0) -> None:
        """End the readers (each closes its stream); idempotent. A reader stuck in an adapter's ``read`` is left
        to end by itself (it is a daemon thread and only appends to its track)."""
        if self._stop.is_set():
            return
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for track in self.tracks:
            self.stats.tracks[track.kind] = track.stats

    def close_unstarted(self) -> None:
        """Close streams opened by ``open()`` when the recording does not start after all."""
        for stream in self._streams.values():
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                log.exception("closing an audio input failed")
        self._streams.clear()

    def _read_loop(self, track: SourceTrack, stream: AudioStream) -> None:
        try:
            while not self._stop.is_set():
                try:
                    block = stream.read(READ_TIMEOUT)
                except AudioDeviceLost as exc:
                    track.mark_lost(str(exc))
                    self._lost(track.kind, str(exc))
                    return
                if block is not None and block.frames:
                    track.add(block)
        except Exception as exc:  # noqa: BLE001 - an audio failure must never stop the video
            log.exception("audio input %s failed", track.device.id)
            track.mark_lost(f"{type(exc).__name__}: {exc}")
            self._lost(track.kind, f"{type(exc).__name__}: {exc}")
        finally:
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                log.exception("closing audio input %s failed", track.device.id)

    def _lost(self, kind: str, reason: str) -> None:
        """On the reader thread of an input that stopped (it ends anyway): wait ``LOSS_COALESCE`` for others that
        stop with it, then report them in one call."""
        with self._report_lock:
            self._losses[kind] = reason
            if self._loss_reporter:
                return
            self._loss_reporter = True
        time.sleep(LOSS_COALESCE)
        with self._report_lock:
            losses, self._losses = self._losses, {}
            self._loss_reporter = False
        kinds = tuple(k for k in ("mic", "system") if k in losses)
        live = [t for t in self.tracks if not t.lost]
        detail = losses[kinds[0]] if len(kinds) == 1 else "; ".join(f"{_kind_label(k)}: {losses[k]}" for k in kinds)
        rest = "the recording goes on without audio" if not live else "the recording goes on without it"
        self._report(kinds, f"{' and '.join(_kind_label(k) for k in kinds)} stopped ({detail}); {rest}",
                     at_start=False)

    def _report(self, kinds: tuple[str, ...], message: str, *, at_start: bool) -> None:
        with self._report_lock:
            new = tuple(k for k in kinds if k not in self._reported)
            if not new:
                return
            self._reported.update(new)
        log.warning("audio: %s", message)
        if self._on_failure is not None:
            try:
                self._on_failure(AudioFailure(new, message, at_start))
            except Exception:  # noqa: BLE001 - an observer must not break recording
                log.exception("audio failure observer failed")
