"""Audio core without an audio server or a display: SourceTrack placement (holes, drift), the mixer's pause cuts
and end, the limiter, device choice, and the whole recorder with fake inputs on a fake clock (real Opus/VP9)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from tray_platform.base import (AudioBlock, AudioDevice, AudioDeviceLost, AudioInput, AudioStream,
                                AudioUnavailable, Monitor, Region)

from tray.capture.audio import (FRAME, RATE, AudioMixer, AudioSpec, PeakLimiter, SourceTrack, UnknownAudioDevice,
                                resolve_devices)
from tray.capture.errors import InvalidCaptureTarget
from tray.capture.recorder import Recorder, RecorderState
from tray.capture.timeline import RecordingTimeline

np = pytest.importorskip("numpy")
av = pytest.importorskip("av")

MIC = AudioDevice("mic-1", "Desk Mic", "mic", True)
MONITOR = AudioDevice("out.monitor", "Monitor of Speakers", "monitor", True)


def block(t: float, frames: int, value: float = 0.5) -> AudioBlock:
    return AudioBlock(np.full((frames, 2), value, np.float32).tobytes(), frames, t)


def grid(t: float) -> int:
    return round(t * RATE)


# ------------------------------------------------------------------------------------------- SourceTrack
def test_track_keeps_a_source_continuous_despite_timestamp_jitter():
    track = SourceTrack("system", MONITOR)
    rng = np.random.default_rng(1)
    track.add(block(10.0, 480))
    t = 10.01
    for _ in range(199):
        track.add(block(t + rng.uniform(0, 0.004), 480))  # arrival-stamped jitter: only ever late
        t += 0.01
    assert track.stats.jumps == 0 and track.stats.drift_corrections == 0
    assert track.covered() - grid(10.0) == 200 * 480
    out = track.take(grid(10.0), grid(12.0))
    assert (out == 0.5).all()  # no hole, no overlap


def test_track_fills_a_hole_with_silence_and_resumes_at_the_right_place():
    track = SourceTrack("system", MONITOR)
    for k in range(100):
        track.add(block(10.0 + k * 0.01, 480))
    for k in range(100):  # 5 s with nothing delivered, then more
        track.add(block(16.0 + k * 0.01, 480, value=0.25))
    assert track.stats.jumps == 1
    out = track.take(grid(10.0), grid(17.0))
    assert (out[:grid(1.0)] == 0.5).all()
    assert (out[grid(1.0):grid(6.0)] == 0).all()  # the hole is silence, not squeezed out
    assert (out[grid(6.0):] == 0.25).all()


def test_track_corrects_a_slow_clock_drift_by_inserting_a_little_silence():
    track = SourceTrack("mic", MIC)
    t = 10.0
    for _ in range(600):  # the device delivers 480 samples every 10.05 ms: 0.5% slow, 30 ms over 6 s
        track.add(block(t, 480))
        t += 0.01005
    assert track.stats.jumps == 0 and track.stats.drift_corrections >= 2 and track.stats.drift_frames > 0
    end = track.covered()
    assert abs(end - grid(t)) < 0.015 * RATE  # stays within 15 ms of the clock


def test_track_drops_what_comes_after_the_mixer_passed():
    track = SourceTrack("mic", MIC)
    track.add(block(10.0, 480))
    track.take(grid(10.0), grid(10.02))  # the mixer went on to 10.02
    track.add(block(10.01, 480))
    assert track.stats.late_frames == 480


# ------------------------------------------------------------------------------------------------- mixer
def test_mixer_cuts_pauses_at_the_same_instants_as_the_video_and_ends_exactly():
    timeline = RecordingTimeline()
    mic = SourceTrack("mic", MIC)
    timeline.start(10.0)
    # the mic delivers 1.0 before the pause, 9.0 during it, 1.0 after
    for k in range(300):
        t = 10.0 + k * 0.01
        mic.add(block(t, 480, value=0.1 if t < 11.0 or t >= 12.0 else 0.9))
    timeline.pause(11.0)
    timeline.resume(12.0)
    mixer = AudioMixer([mic], timeline)
    frames = mixer.pump(now=13.0)
    frames += mixer.finish(1_900)  # the video ends 1.9 s in (2.9 s of clock minus the 1 s pause)
    out = np.concatenate([f for _, f in frames])
    assert [p for p, _ in frames] == list(range(0, len(frames) * FRAME, FRAME))
    assert len(out) == 1_900 * RATE // 1000  # 1.9 s: mixed up to 1.95 s, the end cut to the video's
    assert np.allclose(out[:grid(1.9)], 0.1)  # nothing from inside the pause
    assert (out[grid(1.9):] == 0).all()


def test_mixer_waits_for_a_late_input_then_fills_silence():
    timeline = RecordingTimeline()
    a, b = SourceTrack("mic", MIC), SourceTrack("system", MONITOR)
    timeline.start(10.0)
    for k in range(100):
        a.add(block(10.0 + k * 0.01, 480, 0.1))
    b.add(block(10.0, 480, 0.2))  # then b stalls
    mixer = AudioMixer([a, b], timeline, max_wait=1.0, hold=0)
    assert mixer.pump(now=10.5) == []  # waits for b
    frames = mixer.pump(now=11.5)  # b is more than max_wait late: silence for it from 10.01 on
    out = np.concatenate([f for _, f in frames])
    assert len(out) == grid(0.5) and mixer.silence_forced > 0
    assert np.allclose(out[:480], 0.3) and np.allclose(out[480:], 0.1)
    b.mark_lost("gone")
    assert len(np.concatenate([f for _, f in mixer.pump(now=12.0)])) == grid(0.5)  # a lost input is not waited for


def test_limiter_keeps_two_full_scale_sources_under_the_threshold_and_leaves_quiet_audio_alone():
    limiter = PeakLimiter()
    t = np.arange(RATE) / RATE
    loud = np.stack([np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 1000 * t)] * 2, axis=1).astype(np.float32)
    out = np.concatenate([limiter.process(loud[i:i + FRAME]) for i in range(0, RATE, FRAME)])
    assert np.abs(out).max() <= limiter.threshold + 1e-6 and limiter.engaged_blocks > 0
    quiet = PeakLimiter()
    x = (0.3 * loud).astype(np.float32)
    assert np.array_equal(quiet.process(x), x)


def test_limiter_gain_curve_is_the_step_by_step_recurrence():
    from tray.capture.audio_mixer import gain_curve

    rng = np.random.default_rng(7)
    recover = 1.0 - np.exp(-0.001 / 0.1)
    for g0, n in ((1.0, 20), (0.35, 1000), (0.999, 3)):
        needed = np.minimum(1.0, rng.uniform(0.2, 1.6, n))
        needed[n // 2:] = 1.0  # and a stretch where the gain recovers
        want, g = [], g0
        for k in range(n):
            g = min(float(needed[k]), g + (1.0 - g) * recover)
            want.append(g)
        assert np.allclose(gain_curve(g0, needed, recover), want, rtol=0, atol=1e-12)


def test_limiter_in_long_blocks_equals_the_limiter_in_frames():
    t = np.arange(3 * RATE) / RATE
    loud = np.stack([1.4 * np.sin(2 * np.pi * 440 * t) * (t < 1.5)] * 2, axis=1).astype(np.float32)
    whole = PeakLimiter().process(loud)  # 3000 steps: scanned in pieces
    framed = PeakLimiter()
    parts = np.concatenate([framed.process(loud[i:i + FRAME]) for i in range(0, len(loud), FRAME)])
    assert np.allclose(whole, parts, atol=1e-6) and np.abs(whole).max() <= 0.891 + 1e-6


# ----------------------------------------------------------------------------------------- device choice
@dataclass
class FakeInput:
    devices_list: list = field(default_factory=lambda: [MIC, AudioDevice("usb", "USB Mic", "mic"), MONITOR])
    capabilities: frozenset = frozenset({"mic", "system"})
    unavailable: str | None = None
    streams: dict = field(default_factory=dict)
    clock: object = None
    lose_after: dict = field(default_factory=dict)  # device id -> seconds of clock until AudioDeviceLost
    marked: tuple | None = None  # (from, to) clock times where the inputs play 2 kHz instead

    def devices(self):
        if self.unavailable:
            raise AudioUnavailable(self.unavailable)
        return list(self.devices_list)

    def default_device(self, kind):
        return next((d for d in self.devices() if d.kind == kind and d.is_default), None)

    def open(self, device_id, *, rate, channels, clock):
        stream = FakeStream(device_id, clock, self.lose_after.get(device_id), self.marked)
        self.streams[device_id] = stream
        return stream


class FakeStream:
    """Delivers, at each read, the samples from where it left off up to ``clock()`` (the fake recording clock):
    1 kHz from the mic, 440 Hz from the monitor, 2 kHz from either while the clock is in ``marked``."""

    def __init__(self, device_id, clock, lose_after, marked=None):
        self._marked = marked
        self.rate, self.channels = RATE, 2
        self.device_id, self._clock = device_id, clock
        self._pos = None
        self._lose_at = None if lose_after is None else clock() + lose_after
        self.closed = False

    def read(self, timeout):
        time.sleep(0.002)
        now = self._clock()
        if self._lose_at is not None and now >= self._lose_at:
            raise AudioDeviceLost(f"{self.device_id} was unplugged")
        if self._pos is None:
            self._pos = grid(now)
        end = grid(now)
        if end <= self._pos:
            return None
        idx = np.arange(self._pos, end)
        t = idx / RATE
        freq = np.full(len(t), 1000.0 if self.device_id == "mic-1" else 440.0)
        if self._marked:
            freq[(t >= self._marked[0]) & (t < self._marked[1])] = 2000.0
        x = (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        blk = AudioBlock(np.repeat(x[:, None], 2, axis=1).tobytes(), len(x), self._pos / RATE)
        self._pos = end
        return blk

    def close(self):
        self.closed = True


def test_fake_input_fits_the_protocols():
    assert isinstance(FakeInput(), AudioInput)
    assert isinstance(FakeStream("mic-1", time.monotonic, None), AudioStream)


def test_devices_are_chosen_by_id_or_name_and_an_unknown_one_lists_them():
    inp = FakeInput()
    chosen, problems = resolve_devices(AudioSpec("both"), inp)
    assert chosen == {"mic": MIC, "system": MONITOR} and problems == {}
    chosen, _ = resolve_devices(AudioSpec("mic", mic_device="USB Mic"), inp)
    assert chosen["mic"].id == "usb"
    with pytest.raises(UnknownAudioDevice, match=r"no audio input 'Headset'.*mic-1 \(Desk Mic, mic\); usb \(USB "
                                                 r"Mic, mic\); out.monitor \(Monitor of Speakers, monitor\)"):
        resolve_devices(AudioSpec("mic", mic_device="Headset"), inp)
    assert issubclass(UnknownAudioDevice, InvalidCaptureTarget)
    _, problems = resolve_devices(AudioSpec("both"), FakeInput(capabilities=frozenset({"mic"})))
    assert "loopback" in problems["system"]
    _, problems = resolve_devices(AudioSpec("both"), FakeInput(unavailable="no PulseAudio/PipeWire server"))
    assert set(problems) == {"mic", "system"}
    with pytest.raises(InvalidCaptureTarget, match="audio mode"):
        AudioSpec("stereo")


# --------------------------------------------------------------------------------- recorder, fake inputs
class OneMonitor:
    def monitors(self):
        return [Monitor(0, Region(0, 0, 64, 48), primary=True)]

    def virtual_screen(self):
        return Region(0, 0, 64, 48)


class Shades:
    def __init__(self):
        self.n = 0

    def grab(self, region):
        self.n += 1
        return region.width, region.height, bytearray([self.n % 256, 0, 0, 255]) * (region.width * region.height)

    def close(self):
        pass


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.recorder = None
        self.on_sleep = None

    def clock(self):
        return self.now

    def sleep(self, seconds):
        q = self.recorder._queue if self.recorder else None
        deadline = time.monotonic() + 10
        while q is not None and not q.empty() and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.01)  # let the readers see this moment before the clock moves on
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(self.now)


def decode_audio(path):
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None
        return np.concatenate([f.to_ndarray() for f in c.decode(c.streams.audio[0])], axis=1).T


def share(x, freq):
    mono = x.mean(axis=1).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / RATE)
    return float(spectrum[(freqs > freq - 15) & (freqs < freq + 15)].sum() / spectrum.sum())


def record(tmp_path, spec, inp, *, max_duration=2.0, pause_at=None):
    ft = FakeTime()
    inp.clock = ft.clock
    failures = []
    rec = Recorder(tmp_path / "a.webm", region=Region(0, 0, 64, 48), fps=10, max_duration=max_duration,
                   display_info=OneMonitor(), capture_factory=Shades, clock=ft.clock, sleeper=ft.sleep,
                   audio=spec, audio_input=inp, on_audio_failure=failures.append)
    ft.recorder = rec
    if pause_at is not None:
        def at(now):
            if abs(now - pause_at) < 1e-6:
                rec.pause()

                def later():
                    time.sleep(0.05)
                    ft.now += 5.0
                    rec.resume()

                threading.Thread(target=later).start()

        ft.on_sleep = at
    rec.start()
    assert rec.wait(60)
    return rec, failures


def test_recorder_mixes_both_inputs_and_cuts_the_pause_out_of_audio_and_video_alike(tmp_path):
    rec, failures = record(tmp_path, AudioSpec("both"), FakeInput(marked=(100.8, 105.8)), pause_at=100.8)
    assert rec.state is RecorderState.FINISHED and failures == []
    x = decode_audio(tmp_path / "a.webm")
    assert abs(len(x) / RATE - 2.0) <= 0.021
    assert share(x, 440) > 0.3 and share(x, 1000) > 0.3
    assert share(x, 2000) < 1e-3  # what the inputs delivered while paused is not in the file
    assert rec.result.audio.inputs == {"mic": "mic-1", "system": "out.monitor"}
    with av.open(str(tmp_path / "a.webm")) as c:
        assert [s.codec_context.name for s in c.streams] == ["vp9", "opus"]


def test_an_input_lost_mid_recording_is_reported_once_and_the_rest_goes_on(tmp_path):
    inp = FakeInput(lose_after={"mic-1": 0.5})
    rec, failures = record(tmp_path, AudioSpec("both"), inp)
    assert rec.state is RecorderState.FINISHED and rec.result.error is None
    assert len(failures) == 1 and failures[0].sources == ("mic",) and "unplugged" in failures[0].message
    assert inp.streams["mic-1"].closed
    x = decode_audio(tmp_path / "a.webm")
    assert abs(len(x) / RATE - 2.0) <= 0.021
    assert share(x[grid(0.7):], 1000) < 1e-3 and share(x[grid(0.7):], 440) > 0.9


def test_no_audio_server_means_video_only_and_one_report(tmp_path):
    rec, failures = record(tmp_path, AudioSpec("both"), FakeInput(unavailable="no PulseAudio/PipeWire server"),
                           max_duration=0.5)
    assert rec.state is RecorderState.FINISHED
    assert len(failures) == 1 and failures[0].sources == ("mic", "system") and failures[0].at_start
    assert decode_audio(tmp_path / "a.webm") is None and rec.result.audio is None


def test_unknown_device_stops_start_before_any_file(tmp_path):
    rec = Recorder(tmp_path / "u.webm", region=Region(0, 0, 64, 48), display_info=OneMonitor(),
                   capture_factory=Shades, audio=AudioSpec("mic", mic_device="nope"), audio_input=FakeInput())
    with pytest.raises(UnknownAudioDevice):
        rec.start()
    assert not (tmp_path / "u.webm").exists()


def test_importing_the_audio_modules_loads_no_audio_or_codec_library():
    import subprocess
    import sys

    code = ("import sys, importlib\n"
            "for m in ['tray.capture.audio', 'tray.capture.recorder', 'tray.commands.devices',"
            " 'tray_platform.linux.audio']: importlib.import_module(m)\n"
            "loaded = [m for m in ('av', 'numpy', 'soundcard') if m in sys.modules]\n"
            "assert not loaded, loaded\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
