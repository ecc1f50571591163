"""Windows audio input over soundcard (WASAPI through Media Foundation): microphones, and loopback capture of
every output device ("what the speakers play"). Untested on CI (Linux only).

soundcard is imported inside the calls (no COM at import). A loopback stream of a silent output delivers no data
from WASAPI; soundcard then returns zeros for the time that passed, and the recorder's ``SourceTrack`` fills any
hole that is left. WASAPI gives no capture timestamps through soundcard, so blocks are stamped with their arrival
time minus their length (late by the device period, ~10 ms, plus scheduling delay; ``SourceTrack`` keeps the
source continuous through such jitter). A device that is unplugged makes soundcard raise, reported as
``AudioDeviceLost``.

``SoundcardStream`` is shared with the macOS adapter (CoreAudio through the same library).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from tray_platform.base import AudioBlock, AudioDevice, AudioDeviceLost, AudioUnavailable


def import_soundcard() -> Any:
    try:
        import soundcard
    except Exception as exc:  # noqa: BLE001 - ImportError, or the library failing to reach the OS audio API
        raise AudioUnavailable(f"audio capture is not available ({type(exc).__name__}: {exc})") from exc
    return soundcard


class SoundcardStream:
    """One soundcard recorder, opened in the constructor and used from one thread (``read``/``close``)."""

    def __init__(self, microphone: Any, *, rate: int, channels: int, clock: Callable[[], float],
                 block_seconds: float = 0.01):
        self.rate, self.channels = rate, channels
        self._clock = clock
        self._name = getattr(microphone, "name", "audio device")
        try:
            self._recorder = microphone.recorder(samplerate=rate, channels=channels,
                                                 blocksize=max(1, int(rate * block_seconds)))
            self._recorder.__enter__()
        except Exception as exc:  # noqa: BLE001 - soundcard raises RuntimeError/OSError subclasses
            raise AudioUnavailable(f"cannot record from {self._name}: {exc}") from exc
        self._open = True

    def read(self, timeout: float) -> AudioBlock | None:
        # soundcard's record(None) returns what the device has, waiting at most about one device period (WASAPI;
        # zeros for a silent loopback) or until CoreAudio's next callback.
        if not self._open:
            raise AudioDeviceLost(f"{self._name} is closed")
        try:
            data = self._recorder.record(numframes=None)
        except Exception as exc:  # noqa: BLE001 - device invalidated / unplugged
            raise AudioDeviceLost(f"{self._name} stopped ({exc})") from exc
        now = self._clock()
        frames = len(data)
        if not frames:
            return None
        import numpy as np

        samples = np.ascontiguousarray(data, dtype=np.float32)
        if samples.ndim == 1 or samples.shape[1] != self.channels:  # mono device asked for stereo, or the reverse
            samples = np.repeat(samples.reshape(frames, -1)[:, :1], self.channels, axis=1)
        return AudioBlock(samples.tobytes(), frames, now - frames / self.rate)

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self._recorder.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - the device may already be gone
                pass


class WasapiAudioInput:
    """Constructor does no I/O; each call asks WASAPI anew."""

    capabilities = frozenset({"mic", "system"})

    def devices(self) -> list[AudioDevice]:
        sc = import_soundcard()
        try:
            default_mic = _id_or_none(sc.default_microphone)
            default_out = _id_or_none(sc.default_speaker)
            mics = sc.all_microphones(include_loopback=True)
        except Exception as exc:  # noqa: BLE001
            raise AudioUnavailable(f"cannot list audio devices: {exc}") from exc
        out = []
        for m in mics:
            if getattr(m, "isloopback", False):
                out.append(AudioDevice(m.id, f"{m.name} (what it plays)", "monitor", m.id == default_out))
            else:
                out.append(AudioDevice(m.id, m.name, "mic", m.id == default_mic))
        return out

    def default_device(self, kind: str) -> AudioDevice | None:
        return next((d for d in self.devices() if d.kind == kind and d.is_default), None)

    def open(self, device_id: str, *, rate: int, channels: int,
             clock: Callable[[], float] = time.monotonic) -> SoundcardStream:
        sc = import_soundcard()
        try:
            microphone = sc.get_microphone(device_id, include_loopback=True)
        except Exception as exc:  # noqa: BLE001 - IndexError for an unknown id
            raise AudioUnavailable(f"no audio input {device_id!r} ({exc})") from exc
        return SoundcardStream(microphone, rate=rate, channels=channels, clock=clock)


def _id_or_none(get: Callable[[], Any]) -> str | None:
    try:
        return get().id
    except Exception:  # noqa: BLE001 - no default device
        return None


def create(**kwargs: Any) -> WasapiAudioInput:
    return WasapiAudioInput(**kwargs)
