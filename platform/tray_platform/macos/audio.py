"""macOS audio input over soundcard (CoreAudio): microphones. Untested on CI (Linux only).

System sound: macOS has no monitor of the output. Two ways exist: ScreenCaptureKit (macOS 13+, ``SCStream`` with
``capturesAudio``; needs the Screen Recording permission and PyObjC bindings: not implemented here), or a
loopback driver that the user routes the output through (BlackHole, Loopback, Soundflower, Background Music).
Such a driver shows up as an input device; it is detected by name (``LOOPBACK_NAMES``) and listed with kind
``"monitor"``, so ``AudioSpec(mode="system")`` records from it. Without one, "system" is reported as unavailable
at start and the recording goes on with the microphone (or video only).

The microphone needs the Microphone permission (TCC): without it CoreAudio delivers silence; the app bundle's
Info.plist must carry ``NSMicrophoneUsageDescription``. Streams: ``tray_platform.soundcard_input``.
"""

from __future__ import annotations

from typing import Any

from tray_platform.base import AudioDevice
from tray_platform.soundcard_input import SoundcardInput

#: Input devices whose name contains one of these are loopback drivers (what the output plays).
LOOPBACK_NAMES = ("blackhole", "loopback", "soundflower", "background music", "ishowu", "vb-cable")


def is_loopback_name(name: str) -> bool:
    lowered = name.lower()
    return any(n in lowered for n in LOOPBACK_NAMES)


class CoreAudioInput(SoundcardInput):
    capabilities = frozenset({"mic", "system"})  # "system" only through a loopback driver (see the docstring)

    def _classify(self, inputs: list[Any], default_mic: str | None, default_out: str | None) -> list[AudioDevice]:
        out: list[AudioDevice] = []
        first_loopback = True
        for m in inputs:
            if is_loopback_name(m.name):
                out.append(AudioDevice(m.id, m.name, "monitor", first_loopback))
                first_loopback = False
            else:
                out.append(AudioDevice(m.id, m.name, "mic", m.id == default_mic))
        return out


def create(**kwargs: Any) -> CoreAudioInput:
    return CoreAudioInput(**kwargs)
