"""The Windows (WASAPI) and macOS (CoreAudio) audio adapters over a stand-in ``soundcard`` module (the OS edge):
how devices are classified and which is the default, mono devices up-mixed, a vanished device reported as lost,
and a missing library reported as unavailable. The real library only runs on those systems."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from tray_platform.base import AudioDeviceLost, AudioUnavailable
from tray_platform.macos.audio import CoreAudioInput
from tray_platform.windows.audio import WasapiAudioInput


class FakeRecorder:
    def __init__(self, blocks):
        self.blocks = list(blocks)
        self.entered = self.exited = False

    def __enter__(self):
        self.entered = True
        return self

    def __exit__(self, *exc):
        self.exited = True

    def record(self, numframes=None):
        block = self.blocks.pop(0)
        if isinstance(block, Exception):
            raise block
        return block


class FakeMic:
    def __init__(self, id, name, isloopback=False, blocks=()):
        self.id, self.name, self.isloopback = id, name, isloopback
        self.blocks = blocks
        self.opened_with = None
        self.rec = None

    def recorder(self, samplerate, channels, blocksize):
        self.opened_with = (samplerate, channels, blocksize)
        self.rec = FakeRecorder(self.blocks)
        return self.rec


@pytest.fixture
def soundcard(monkeypatch):
    mod = types.ModuleType("soundcard")
    mod.mics = []
    mod.default_mic = mod.default_out = None

    def all_microphones(include_loopback=False):
        return [m for m in mod.mics if include_loopback or not m.isloopback]

    def default(kind):
        def get():
            if getattr(mod, kind) is None:
                raise RuntimeError("no default device")
            return getattr(mod, kind)
        return get

    def get_microphone(device_id, include_loopback=False):
        for m in all_microphones(include_loopback):
            if m.id == device_id:
                return m
        raise IndexError(f"no microphone with id {device_id}")

    mod.all_microphones = all_microphones
    mod.default_microphone = default("default_mic")
    mod.default_speaker = default("default_out")
    mod.get_microphone = get_microphone
    monkeypatch.setitem(sys.modules, "soundcard", mod)
    return mod


def test_wasapi_lists_microphones_and_loopbacks_with_their_defaults(soundcard):
    mic, usb = FakeMic("m1", "Microphone Array"), FakeMic("m2", "USB Mic")
    spk = FakeMic("s1", "Speakers", isloopback=True)
    soundcard.mics = [mic, usb, spk]
    soundcard.default_microphone = lambda: usb
    soundcard.default_speaker = lambda: spk
    devices = WasapiAudioInput().devices()
    assert [(d.id, d.name, d.kind, d.is_default) for d in devices] == [
        ("m1", "Microphone Array", "mic", False), ("m2", "USB Mic", "mic", True),
        ("s1", "Speakers (what it plays)", "monitor", True)]
    assert WasapiAudioInput().default_device("monitor").id == "s1"


def test_coreaudio_finds_loopback_drivers_by_name_and_has_no_default_without_a_device(soundcard):
    soundcard.mics = [FakeMic("a", "MacBook Pro Microphone"), FakeMic("b", "BlackHole 2ch"),
                      FakeMic("c", "Loopback Audio")]

    def no_default():
        raise RuntimeError("none")

    soundcard.default_microphone = no_default
    devices = CoreAudioInput().devices()
    assert [(d.id, d.kind, d.is_default) for d in devices] == [("a", "mic", False), ("b", "monitor", True),
                                                               ("c", "monitor", False)]
    assert CoreAudioInput().default_device("mic") is None


def test_stream_upmixes_mono_stamps_blocks_and_reports_a_lost_device(soundcard):
    mono = np.linspace(-1, 1, 480, dtype=np.float32).reshape(480, 1)
    mic = FakeMic("m1", "Headset", blocks=[mono, np.zeros((0, 1), np.float32), OSError("device invalidated")])
    soundcard.mics = [mic]
    stream = WasapiAudioInput().open("m1", rate=48_000, channels=2, clock=lambda: 10.0)
    assert mic.opened_with == (48_000, 2, 480) and mic.rec.entered
    block = stream.read(0.1)
    samples = np.frombuffer(block.samples, np.float32).reshape(-1, 2)
    assert block.frames == 480 and block.captured_at == pytest.approx(10.0 - 0.01)
    assert np.array_equal(samples[:, 0], mono[:, 0]) and np.array_equal(samples[:, 1], mono[:, 0])
    assert stream.read(0.1) is None  # nothing yet
    with pytest.raises(AudioDeviceLost, match="Headset stopped"):
        stream.read(0.1)
    stream.close()
    assert mic.rec.exited
    with pytest.raises(AudioDeviceLost, match="closed"):
        stream.read(0.1)


def test_unknown_device_and_missing_library_are_unavailable(soundcard, monkeypatch):
    soundcard.mics = [FakeMic("m1", "Mic")]
    with pytest.raises(AudioUnavailable, match="no audio input 'nope'"):
        CoreAudioInput().open("nope", rate=48_000, channels=2)
    monkeypatch.setitem(sys.modules, "soundcard", None)  # import soundcard -> ImportError
    with pytest.raises(AudioUnavailable, match="audio capture is not available"):
        WasapiAudioInput().devices()
