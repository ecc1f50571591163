"""Audio input over the ``soundcard`` library, shared by the Windows (WASAPI) and macOS (CoreAudio) adapters.

``SoundcardInput`` lists and opens devices; a subclass says only how the OS names them (``_classify``: which inputs
are microphones and which are "what the speakers play"). ``SoundcardStream`` is one open recorder.

soundcard is imported inside the calls (no COM/CoreAudio work at import). It gives no capture timestamps, so blocks
are stamped with their arrival time minus their length (late by the device period, ~10 ms, plus scheduling delay;
the recorder's ``SourceTrack`` keeps the source continuous through such jitter and fills holes with silence). A
device that goes away makes soundcard raise, reported as ``AudioDeviceLost``.

Threading: an input object may be used from any thread; a stream from one thread (``read``/``close``).
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


def id_or_none(get: Callable[[], Any]) -> str | None:
    try:
        return get().id
    except Exception:  # noqa: BLE001 - no default device
        return None


class SoundcardStream:
    """One soundcard recorder, opened in the constructor."""

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


class SoundcardInput:
    """Constructor does no I/O; each call asks the OS anew."""

    capabilities = frozenset({"mic", "system"})
    include_loopback = False  # soundcard's flag: also list outputs as loopback inputs (WASAPI has them)

    def devices(self) -> list[AudioDevice]:
        sc = import_soundcard()
        try:
            default_mic = id_or_none(sc.default_microphone)
            default_out = id_or_none(sc.default_speaker)
            mics = sc.all_microphones(include_loopback=True) if self.include_loopback else sc.all_microphones()
        except Exception as exc:  # noqa: BLE001
            raise AudioUnavailable(f"cannot list audio devices: {exc}") from exc
        return self._classify(mics, default_mic, default_out)

    def _classify(self, inputs: list[Any], default_mic: str | None, default_out: str | None) -> list[AudioDevice]:
        raise NotImplementedError

    def default_device(self, kind: str) -> AudioDevice | None:
        return next((d for d in self.devices() if d.kind == kind and d.is_default), None)

    def open(self, device_id: str, *, rate: int, channels: int,
             clock: Callable[[], float] = time.monotonic) -> SoundcardStream:
        sc = import_soundcard()
        try:
            if self.include_loopback:
                microphone = sc.get_microphone(device_id, include_loopback=True)
            else:
                microphone = sc.get_microphone(device_id)
        except Exception as exc:  # noqa: BLE001 - IndexError for an unknown id
            raise AudioUnavailable(f"no audio input {device_id!r} ({exc})") from exc
        return SoundcardStream(microphone, rate=rate, channels=channels, clock=clock)
