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

Timing (the rules of issue 14): every block an OS adapter delivers carries the ``clock()`` time its first sample
was captured (``AudioBlock.captured_at``). ``SourceTrack`` places blocks on one sample grid of that clock
(index = round(t * 48000)) and keeps a source continuous while its timestamps agree with its sample count; a source
that delivered nothing for a while (a silent loopback, a stalled device) jumps ahead and the hole stays silence,
time is never compressed; a source whose clock drifts is nudged back by inserting or dropping a few ms.
``AudioMixer`` mixes the grid from the recording's ``t0`` on, cuts out the same pauses as the video
(``RecordingTimeline``), limits the sum (``PeakLimiter``) and hands 20 ms frames with sample-exact pts to the
encoder, keeping the last ``HOLD`` seconds back so that the end can be cut exactly where the video ends. Video frames are stamped from the same clock and the same timeline, so skipping unchanged frames (VFR)
never moves audio. The mixer waits for every live input to cover a stretch before mixing it, at most
``MAX_WAIT`` seconds; after that a missing stretch is silence.

Threads: one reader per input (``snaplark-audio-mic``, ``snaplark-audio-system``) owns its ``AudioStream`` and
only appends to its ``SourceTrack`` (a lock inside); the recorder's encoder thread owns the ``AudioMixer`` and
the Opus encoder.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from tray_platform.base import (AudioBlock, AudioDevice, AudioDeviceLost, AudioInput, AudioStream,
                                AudioUnavailable)

from tray.capture.errors import InvalidCaptureTarget
from tray.capture.timeline import RecordingTimeline, TimelineSnapshot

log = logging.getLogger(__name__)

RATE = 48_000  # Opus's native rate; every input is opened at it (the OS resamples)
CHANNELS = 2
FRAME = 960  # 20 ms Opus frames
OPUS_BITRATE = 96_000
MAX_WAIT = 1.0  # s: the mixer waits this long for a late input before filling silence
HOLD = 0.5  # s: mixed audio kept back from the encoder, so a stop noticed late still ends it on the video's end
GUARD = 0.05  # s: never mix closer to "now" than this (a pause being registered right now)
JUMP_SECONDS = 0.05  # a block this far from where its sample count puts it: the source had a hole (or overlap)
DRIFT_SECONDS = 0.01  # smaller steady offsets than this are left alone (latency reports wander by a few ms)
DRIFT_WINDOW = 50  # blocks; the smallest offset over them is the source's real offset (delays only add)
READ_TIMEOUT = 0.1
LOSS_COALESCE = 0.3  # s: inputs lost this close together (the audio server went away) make one report
MODES = ("none", "mic", "system", "both")


@dataclass(frozen=True)
class AudioSpec:
    mode: str = "none"
    mic_device: str | None = None
    system_device: str | None = None
    bitrate: int = OPUS_BITRATE

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidCaptureTarget(f"audio mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not isinstance(self.bitrate, int) or not 6_000 <= self.bitrate <= 510_000:
            raise InvalidCaptureTarget(f"audio bitrate must be 6000..510000 bit/s, got {self.bitrate!r}")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The inputs asked for: ``"mic"`` and/or ``"system"``."""
        return {"none": (), "mic": ("mic",), "system": ("system",), "both": ("mic", "system")}[self.mode]


@dataclass(frozen=True)
class AudioFailure:
    """What the user is told once: ``sources`` ("mic", "system") that stopped or never started, and why."""

    sources: tuple[str, ...]
    message: str
    at_start: bool


class UnknownAudioDevice(InvalidCaptureTarget):
    def __init__(self, kind: str, wanted: str, devices: list[AudioDevice]):
        ordered = sorted(devices, key=lambda d: d.kind != "mic")  # microphones first
        listing = "; ".join(f"{d.id} ({d.name}, {d.kind})" for d in ordered) or "none"
        label = "microphone" if kind == "mic" else "output monitor"
        super().__init__(f"no audio input {wanted!r} for the {label}; inputs on this machine: {listing}")
        self.devices = devices


def _numpy():
    # numpy is imported lazily (``import tray`` stays light) and without OpenBLAS threads (see encoder.converter())
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy

    return numpy


def default_audio_input() -> AudioInput:
    """The OS adapter (``SNAPLARK_AUDIO`` overrides the choice). Raises ``AudioUnavailable``."""
    from tray_platform.base import BackendUnavailable, choose_backend

    try:
        return choose_backend("audio", env_var="SNAPLARK_AUDIO").backend
    except BackendUnavailable as exc:
        raise AudioUnavailable(str(exc)) from exc


def list_audio_devices(audio_input: AudioInput | None = None) -> list[AudioDevice]:
    """Inputs and output monitors of this machine. Raises ``AudioUnavailable`` (no audio server)."""
    return (audio_input or default_audio_input()).devices()


def audio_spec(mode: str, mic_device: str = "", *, audio_input: AudioInput | None = None) -> AudioSpec:
    """The AudioSpec for a setting (``capture.audio``, ``--audio``): ``"auto"`` is the microphone when this machine
    has one, else no audio (silently: nobody asked for sound); the other modes are taken as they are (a missing
    device is then reported once by the recorder)."""
    if mode == "auto":
        try:
            has_mic = any(d.kind == "mic" for d in list_audio_devices(audio_input))
        except AudioUnavailable:
            has_mic = False
        mode = "mic" if has_mic else "none"
    return AudioSpec(mode, mic_device=mic_device or None)


def _kind_label(kind: str) -> str:
    return "microphone" if kind == "mic" else "system sound"


def resolve_devices(spec: AudioSpec, audio_input: AudioInput) -> tuple[dict[str, AudioDevice], dict[str, str]]:
    """Pick a device for each input of ``spec``. Returns (kind -> device, kind -> why not). Raises
    ``UnknownAudioDevice`` for a named device that does not exist (the one error that stops ``start()``)."""
    chosen: dict[str, AudioDevice] = {}
    problems: dict[str, str] = {}
    if not spec.kinds:
        return chosen, problems
    try:
        devices = audio_input.devices()
    except AudioUnavailable as exc:
        return chosen, {kind: str(exc) for kind in spec.kinds}
    for kind in spec.kinds:
        if kind == "system" and "system" not in audio_input.capabilities:
            problems[kind] = ("this system cannot record what the speakers play without a loopback device "
                              "(see snaplark devices)")
            continue
        wanted = spec.mic_device if kind == "mic" else spec.system_device
        dev_kind = "mic" if kind == "mic" else "monitor"
        if wanted:
            match = next((d for d in devices if d.id == wanted), None) or next(
                (d for d in devices if d.name == wanted), None)
            if match is None:
                raise UnknownAudioDevice(kind, wanted, devices)
            chosen[kind] = match
            continue
        default = next((d for d in devices if d.kind == dev_kind and d.is_default), None)
        if default is None:
            problems[kind] = ("no microphone found" if kind == "mic" else
                              "no output monitor found (nothing to record system sound from)")
        else:
            chosen[kind] = default
    return chosen, problems


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

    def __init__(self, kind: str, device: AudioDevice, *, rate: int = RATE, channels: int = CHANNELS):
        self.kind, self.device = kind, device
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
        np = _numpy()

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

    def covered(self) -> int | None:
        """Grid index up to which this input has delivered (None: nothing yet)."""
        with self._lock:
            return self._next

    def take(self, a: int, b: int):
        """Samples for grid [a, b) (silence where the input delivered nothing); forgets everything before b."""
        np = _numpy()

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
        return out


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
        np = _numpy()

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
        gains[0] = g = self._gain
        for k in range(steps):
            g = min(float(needed[k]), g + (1.0 - g) * self._recover)
            gains[k + 1] = g
        self._gain = g
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
        np = _numpy()
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
        np = _numpy()

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
    ``start()`` starts the readers; ``stop()`` ends them (bounded) and closes the streams."""

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
            self.tracks.append(SourceTrack(kind, device))
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

