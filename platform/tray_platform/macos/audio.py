"""macOS audio input over soundcard (CoreAudio): microphones. Untested on CI (Linux only).

System sound: macOS has no monitor of the output. Two ways exist: ScreenCaptureKit (macOS 13+, ``SCStream`` with
``capturesAudio``; needs the Screen Recording permission and PyObjC bindings: not implemented here), or a
loopback driver that the user routes the output through (BlackHole, Loopback, Soundflower, Background Music).
Such a driver shows up as an input device; it is detected by name (``LOOPBACK_NAMES``) and listed with kind
``"monitor"``, so ``AudioSpec(mode="system")`` records from it. Without one, "system" is reported as unavailable
at start and the recording goes on with the microphone (or video only).

The microphone needs the Microphone permission (TCC): without it CoreAudio delivers silence; the app bundle's
Info.plist must carry ``NSMicrophoneUsageDescription``.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from tray_platform.base import AudioDevice, AudioUnavailable
from tray_platform.windows.audio import SoundcardStream, _id_or_none, import_soundcard

#: Input devices whose name contains one of these are loopback drivers (what the output plays).
LOOPBACK_NAMES = ("blackhole", "loopback", "soundflower", "background music", "ishowu", "vb-cable")


def is_loopback_name(name: str) -> bool:
    lowered = name.lower()
    return any(n in lowered for n in LOOPBACK_NAMES)


class CoreAudioInput:
    """Constructor does no I/O; each call asks CoreAudio anew."""

    capabilities = frozenset({"mic", "system"})  # "system" only through a loopback driver (see the docstring)

    def devices(self) -> list[AudioDevice]:
        sc = import_soundcard()
        try:
            default_mic = _id_or_none(sc.default_microphone)
            mics = sc.all_microphones()
        except Exception as exc:  # noqa: BLE001
            raise AudioUnavailable(f"cannot list audio devices: {exc}") from exc
        out: list[AudioDevice] = []
        first_loopback = True
        for m in mics:
            if is_loopback_name(m.name):
                out.append(AudioDevice(m.id, m.name, "monitor", first_loopback))
                first_loopback = False
            else:
                out.append(AudioDevice(m.id, m.name, "mic", m.id == default_mic))
        return out

    def default_device(self, kind: str) -> AudioDevice | None:
        return next((d for d in self.devices() if d.kind == kind and d.is_default), None)

    def open(self, device_id: str, *, rate: int, channels: int,
             clock: Callable[[], float] = time.monotonic) -> SoundcardStream:
        sc = import_soundcard()
        try:
            microphone = sc.get_microphone(device_id)
        except Exception as exc:  # noqa: BLE001
            raise AudioUnavailable(f"no audio input {device_id!r} ({exc})") from exc
        return SoundcardStream(microphone, rate=rate, channels=channels, clock=clock)


def create(**kwargs: Any) -> CoreAudioInput:
    return CoreAudioInput(**kwargs)
