"""Windows audio input over soundcard (WASAPI through Media Foundation): microphones, and loopback capture of
every output device ("what the speakers play"). Untested on a real Windows in CI (Linux only); the listing and
stream logic is unit-tested with a stand-in soundcard module (tests/unit/platform/test_soundcard_inputs.py).

A loopback stream of a silent output delivers no data from WASAPI; soundcard then returns zeros for the time that
passed, and the recorder's ``SourceTrack`` fills any hole that is left. Streams: ``tray_platform.soundcard_input``.
"""

from __future__ import annotations

from typing import Any

from tray_platform.base import AudioDevice
from tray_platform.soundcard_input import SoundcardInput


class WasapiAudioInput(SoundcardInput):
    include_loopback = True

    def _classify(self, inputs: list[Any], default_mic: str | None, default_out: str | None) -> list[AudioDevice]:
        out = []
        for m in inputs:
            if getattr(m, "isloopback", False):
                out.append(AudioDevice(m.id, f"{m.name} (what it plays)", "monitor", m.id == default_out))
            else:
                out.append(AudioDevice(m.id, m.name, "mic", m.id == default_mic))
        return out


def create(**kwargs: Any) -> WasapiAudioInput:
    return WasapiAudioInput(**kwargs)
