"""Audio in recordings (issue 14) end to end: a real PulseAudio (conftest.py), real libpulse capture, real
VP9 + Opus encoding into one WebM, decoded with PyAV and checked by FFT / onset detection.

Sources: 440 Hz played into the speakers (system sound), 1 kHz into the virtual microphone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tray_platform.base import Region

from tray.capture.audio import AudioSpec, UnknownAudioDevice
from tray.capture.recorder import Recorder, RecorderState
from tray.capture.sink import STABLE_FROM_OFFSET

from tests.e2e.audio.conftest import RATE, start_beacon, tone
from tests.procutil import wait_until

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")
np = pytest.importorskip("numpy")

PART_SIZE = 5 * 1024 * 1024  # the upload engine's first part (sent last, after close)


def make_recorder(display: str, path: Path, **kwargs) -> Recorder:
    from tray_platform.linux.capture import X11ScreenCapture
    from tray_platform.linux.display import X11DisplayInfo

    return Recorder(path, display_info=X11DisplayInfo(display=display),
                    capture_factory=lambda: X11ScreenCapture(display=display), **kwargs)


def decode_audio(path: Path):
    """(samples: float32 frames x channels, start seconds) of the first audio track, or None without one."""
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None
        stream = c.streams.audio[0]
        chunks, start = [], None
        for frame in c.decode(stream):
            if start is None:
                start = float(frame.pts * frame.time_base)
            chunks.append(frame.to_ndarray())  # planar float: channels x samples
        return np.concatenate(chunks, axis=1).T, start


def decode_video_luma(path: Path) -> tuple[list[float], list[float]]:
    """Per video frame: pts (s) and mean luma (0..255)."""
    pts, luma = [], []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            pts.append(float(frame.pts * frame.time_base))
            luma.append(float(frame.to_ndarray(format="gray").mean()))
    return pts, luma


def band_share(samples, freq: float) -> float:
    """Share of the signal's energy within +-10 Hz of ``freq`` (mono mix)."""
    mono = samples.mean(axis=1).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / RATE)
    return float(spectrum[(freqs > freq - 10) & (freqs < freq + 10)].sum() / spectrum.sum())


def click_onsets(samples, start: float, threshold: float = 0.2, holdoff: float = 0.5) -> list[float]:
    """Times (s, file time line) where the mono signal first exceeds ``threshold`` after ``holdoff`` s of quiet."""
    env = np.abs(samples).max(axis=1)
    idx = np.flatnonzero(env > threshold)
    onsets, last = [], -1e9
    for i in idx:
        if i - last > holdoff * RATE:
            onsets.append(start + i / RATE)
        last = i
    return onsets


def flash_onsets(pts: list[float], luma: list[float]) -> list[float]:
    out, prev = [], 0.0
    for t, y in zip(pts, luma):
        if y > 128 and prev <= 128:
            out.append(t)
        prev = y
    return out


def video_end(pts: list[float], fps: int) -> float:
    return pts[-1] + 1 / fps  # the recorder repeats the last frame at end - one interval


# 1. each source on or off --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, present, absent", [
    ("system", [440], [1000]),
    ("mic", [1000], [440]),
    ("both", [440, 1000], []),
    ("none", [], []),
])
def test_each_mode_records_exactly_its_sources(pulse, beacon_display, tmp_path, mode, present, absent):
    players = [pulse.play("speakers", tone(440, 8)), pulse.play("micwire", tone(1000, 8))]
    failures = []
    path = tmp_path / f"{mode}.webm"
    try:
        time.sleep(0.3)
        rec = make_recorder(beacon_display, path, fps=10, max_duration=3.0, audio=AudioSpec(mode),
                            audio_input=pulse.audio_input(), on_audio_failure=failures.append)
        rec.start()
        assert rec.wait(60) and rec.state is RecorderState.FINISHED
    finally:
        for p in players:
            p.kill()
            p.wait(10)
    assert failures == []
    decoded = decode_audio(path)
    if mode == "none":
        assert decoded is None and rec.result.audio is None
        return
    samples, start = decoded
    assert abs(len(samples) / RATE - 3.0) <= 0.05 and abs(start) < 0.01
    tail = samples[RATE // 2:]  # skip the first 0.5 s (tones ramp through the null sinks' buffers)
    shares = {f: band_share(tail, f) for f in (440, 1000)}
    print(f"\n{mode}: energy share 440 Hz {shares[440]:.4f}, 1 kHz {shares[1000]:.4f}")
    for f in present:
        assert shares[f] > 0.3 / len(present), shares
    for f in absent:
        assert shares[f] < 1e-3, shares
    assert float(np.abs(samples).max()) <= 1.0


# 2. A/V sync over 60 s with a pause ----------------------------------------------------------------------------
def _sync_offsets(path: Path, fps: int, *, after: float = 0.0):
    samples, start = decode_audio(path)
    pts, luma = decode_video_luma(path)
    clicks = click_onsets(samples, start)
    flashes = flash_onsets(pts, luma)
    pairs = []
    for f in flashes:
        if f < after:
            continue
        nearest = min(clicks, key=lambda c: abs(c - f))
        pairs.append((f, nearest - f))
    audio_len = start + len(samples) / RATE
    return pairs, clicks, flashes, audio_len, video_end(pts, fps)


def quiet(beacon) -> bool:
    """Between two events: the last flash ended and the next click is not due yet (events every 1.5 s)."""
    return bool(beacon.events) and 0.5 < time.monotonic() - beacon.events[-1]["flash_at"] < 1.0


@pytest.mark.slow
def test_av_sync_over_60_seconds_with_a_pause(pulse, beacon_display, tmp_path):
    fps, period = 60, 1.5
    beacon = start_beacon(beacon_display, pulse, period=period, size=(320, 240))
    path = tmp_path / "sync.webm"
    try:
        rec = make_recorder(beacon_display, path, region=Region(0, 0, 320, 240), fps=fps, bitrate=500_000,
                            audio=AudioSpec("system"), audio_input=pulse.audio_input())
        rec.start()
        wait_until(lambda: rec.stats.ticks > 0, 10, what="first frame")
        # pause and resume between two events (every 1.5 s; flash 150 ms, click 10 ms), so none is cut in two
        time.sleep(30.0)
        wait_until(lambda: quiet(beacon), 3, what="a quiet moment", interval=0.005)
        rec.pause()
        time.sleep(4.0)
        wait_until(lambda: quiet(beacon), 3, what="a quiet moment", interval=0.005)
        rec.resume()
        time.sleep(30.0)
        result = rec.stop()
    finally:
        beacon.stop()
    assert result.error is None
    pairs, clicks, flashes, audio_len, video_len = _sync_offsets(path, fps)
    offsets_ms = [round(float(d) * 1000, 1) for _, d in pairs]
    skew = [round((e["flash_at"] - e["play_at"]) * 1000, 1) for e in beacon.events]
    print(f"\nsync: {len(pairs)} flash/click pairs, audio - video offsets (ms) {offsets_ms}"
          f"\n  min {min(offsets_ms)} max {max(offsets_ms)} mean {np.mean(offsets_ms):.1f}; beacon's own "
          f"flash - play skew (ms) median {np.median(skew):.1f} max {max(skew)}"
          f"\n  durations: audio {audio_len:.3f} s, video {video_len:.3f} s, result {result.duration:.3f} s;"
          f" audio stats {result.audio}")
    assert len(pairs) >= 35, (len(flashes), len(clicks))
    assert len(clicks) == len(flashes), (clicks, flashes)
    assert all(abs(d) <= 0.030 for _, d in pairs), offsets_ms
    assert abs(audio_len - video_len) <= 0.050, (audio_len, video_len)
    assert abs(video_len - 60.0) < 0.5


# 3. a source that delivers nothing for 5 s ---------------------------------------------------------------------
@pytest.mark.slow
def test_silent_source_gap_is_filled_and_sync_holds_after_it(pulse, beacon_display, tmp_path):
    fps, period = 60, 1.0
    beacon = start_beacon(beacon_display, pulse, period=period, size=(320, 240))
    path = tmp_path / "gap.webm"
    try:
        rec = make_recorder(beacon_display, path, region=Region(0, 0, 320, 240), fps=fps, bitrate=500_000,
                            audio=AudioSpec("system"), audio_input=pulse.audio_input())
        rec.start()
        wait_until(lambda: rec.stats.ticks > 0, 10, what="first frame")
        time.sleep(5.0)
        gap_from = rec.elapsed()
        pulse.pactl("suspend-sink", "speakers", "1")  # the monitor delivers nothing, the beacon's clicks wait
        time.sleep(5.0)
        pulse.pactl("suspend-sink", "speakers", "0")
        gap_to = rec.elapsed()
        time.sleep(8.0)
        result = rec.stop()
    finally:
        pulse.pactl("suspend-sink", "speakers", "0", check=False)
        beacon.stop()
    assert result.error is None
    samples, start = decode_audio(path)
    pairs, clicks, flashes, audio_len, video_len = _sync_offsets(path, fps, after=gap_to + 0.5)
    offsets_ms = [round(float(d) * 1000, 1) for _, d in pairs]
    track = result.audio.tracks["system"]
    quiet = np.abs(samples[int((gap_from + 0.3) * RATE):int((gap_to - 0.3) * RATE)]).max()
    print(f"\ngap {gap_from:.2f}..{gap_to:.2f} s: audio {audio_len:.3f} s, video {video_len:.3f} s; "
          f"after the gap audio - video offsets (ms) {offsets_ms}; track {track}; max |sample| in the gap {quiet}")
    assert abs(audio_len - video_len) <= 0.050, (audio_len, video_len)
    assert track.jumps >= 1  # the hole was seen as a hole, not squeezed out
    assert quiet < 0.01  # silence where the source delivered nothing
    assert len(pairs) >= 6, (flashes, clicks)
    assert all(abs(d) <= 0.030 for _, d in pairs), offsets_ms


# 4. device removed mid-recording ------------------------------------------------------------------------------
def test_mic_removed_mid_recording_keeps_video_and_system_sound_and_reports_once(pulse, beacon_display, tmp_path):
    mic_module = pulse.load("module-remap-source", "master=micwire.monitor", "source_name=gonemic",
                            "source_properties=device.description=GoneMic")
    players = [pulse.play("speakers", tone(440, 10)), pulse.play("micwire", tone(1000, 10))]
    failures = []
    path = tmp_path / "lost.webm"
    try:
        time.sleep(0.3)
        rec = make_recorder(beacon_display, path, fps=10, max_duration=5.0,
                            audio=AudioSpec("both", mic_device="gonemic"), audio_input=pulse.audio_input(),
                            on_audio_failure=failures.append)
        rec.start()
        time.sleep(2.0)
        pulse.pactl("unload-module", str(mic_module))
        assert rec.wait(60)
    finally:
        pulse.pactl("unload-module", str(mic_module), check=False)
        for p in players:
            p.kill()
            p.wait(10)
    result = rec.result
    assert rec.state is RecorderState.FINISHED and result.error is None
    assert len(failures) == 1, failures
    assert failures[0].sources == ("mic",) and not failures[0].at_start and "microphone" in failures[0].message
    assert result.audio.tracks["mic"].lost
    samples, start = decode_audio(path)
    pts, _ = decode_video_luma(path)
    assert abs(video_end(pts, 10) - 5.0) <= 0.1 and abs(len(samples) / RATE - 5.0) <= 0.05
    before, after = samples[int(0.7 * RATE):int(1.9 * RATE)], samples[int(3.0 * RATE):int(4.8 * RATE)]
    print(f"\nmic removed at ~2 s: before 1 kHz {band_share(before, 1000):.3f} 440 {band_share(before, 440):.3f};"
          f" after 1 kHz {band_share(after, 1000):.5f} 440 {band_share(after, 440):.3f}; failure {failures[0]}")
    assert band_share(before, 1000) > 0.15 and band_share(before, 440) > 0.15
    assert band_share(after, 1000) < 1e-3 and band_share(after, 440) > 0.5


def test_audio_server_killed_mid_recording_keeps_video_and_reports_both_inputs_once(beacon_display, tmp_path):
    from tests.e2e.audio.conftest import start_pulse, stop_pulse

    server = start_pulse(tmp_path / "pulse")  # its own daemon: this test kills it
    failures = []
    path = tmp_path / "killed.webm"
    try:
        player = server.play("speakers", tone(440, 10))
        rec = make_recorder(beacon_display, path, fps=10, max_duration=4.0, audio=AudioSpec("both"),
                            audio_input=server.audio_input(), on_audio_failure=failures.append)
        rec.start()
        time.sleep(1.5)
        server.proc.kill()
        assert rec.wait(60)
    finally:
        player.kill()
        stop_pulse(server)
    assert rec.state is RecorderState.FINISHED and rec.result.error is None
    assert len(failures) == 1, failures
    assert failures[0].sources == ("mic", "system") and "without audio" in failures[0].message
    samples, _ = decode_audio(path)
    pts, _ = decode_video_luma(path)
    print(f"\nserver killed at ~1.5 s: {failures[0].message}; audio {len(samples) / RATE:.3f} s, "
          f"video {video_end(pts, 10):.3f} s")
    assert abs(video_end(pts, 10) - 4.0) <= 0.1 and abs(len(samples) / RATE - 4.0) <= 0.05
    assert band_share(samples[int(0.5 * RATE):int(1.3 * RATE)], 440) > 0.5
    assert np.abs(samples[int(2.0 * RATE):]).max() < 0.01  # silence after the server went away


def test_no_audio_server_records_video_only_and_reports_once(beacon_display, tmp_path):
    from tray_platform.linux.audio import PulseAudioInput

    failures = []
    path = tmp_path / "noserver.webm"
    rec = make_recorder(beacon_display, path, fps=10, max_duration=1.0, audio=AudioSpec("both"),
                        audio_input=PulseAudioInput(server=f"unix:{tmp_path / 'nothing-here'}"),
                        on_audio_failure=failures.append)
    rec.start()
    assert rec.wait(30) and rec.state is RecorderState.FINISHED
    assert len(failures) == 1 and failures[0].sources == ("mic", "system") and failures[0].at_start
    assert "without audio" in failures[0].message
    assert decode_audio(path) is None and rec.result.audio is None
    assert decode_video_luma(path)[0]


def test_unknown_mic_is_a_clear_error_listing_the_devices(pulse, beacon_display, tmp_path):
    path = tmp_path / "unknown.webm"
    rec = make_recorder(beacon_display, path, fps=10, max_duration=1.0,
                        audio=AudioSpec("mic", mic_device="no-such-mic"), audio_input=pulse.audio_input())
    with pytest.raises(UnknownAudioDevice, match="no audio input 'no-such-mic'.*testmic \\(TestMic, mic\\)"
                                                 ".*speakers.monitor"):
        rec.start()
    assert not path.exists()


def test_devices_lists_inputs_and_monitors_with_defaults(pulse):
    devices = pulse.audio_input().devices()
    by_id = {d.id: d for d in devices}
    assert by_id["testmic"].kind == "mic" and by_id["testmic"].is_default and by_id["testmic"].name == "TestMic"
    assert by_id["speakers.monitor"].kind == "monitor" and by_id["speakers.monitor"].is_default
    assert by_id["micwire.monitor"].kind == "monitor" and not by_id["micwire.monitor"].is_default


def test_snaplark_devices_command_prints_them(pulse, capsys, monkeypatch):
    import argparse

    from tray.commands import COMMANDS, devices

    assert "devices" in COMMANDS
    monkeypatch.setenv("PULSE_SERVER", pulse.server)
    assert devices.run(argparse.Namespace(verbose=False, config=None)) == 0
    out = capsys.readouterr().out
    assert "testmic" in out and "TestMic" in out and "speakers.monitor" in out
    lines = out.splitlines()
    assert any("testmic" in line and "default" in line for line in lines)
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/native")
    assert devices.run(argparse.Namespace(verbose=False, config=None)) == 1
    assert "no PulseAudio/PipeWire server" in capsys.readouterr().err


# upload while recording: the bytes the muxer rewrites at close are all in part 0 ----------------------------------
def test_with_audio_the_muxer_rewrites_only_header_bytes_inside_part_0(pulse, beacon_display, sink_log, tmp_path):
    beacon = start_beacon(beacon_display, pulse, period=0.7, size=(320, 240), noise=True)
    player = pulse.play("micwire", tone(1000, 12))
    path = tmp_path / "rewrite.webm"
    sink_log.path = path
    try:
        rec = make_recorder(beacon_display, path, region=Region(0, 0, 320, 240), fps=30, bitrate=8_000_000,
                            max_duration=10.0, sink=sink_log, audio=AudioSpec("both"),
                            audio_input=pulse.audio_input())
        rec.start()
        assert rec.wait(60) and rec.state is RecorderState.FINISHED
    finally:
        beacon.stop()
        player.kill()
        player.wait(10)
    durables = sink_log.durables()
    assert len(durables) >= 5 and durables == sorted(set(durables))
    assert decode_audio(path) is not None
    final = path.read_bytes()
    all_changed: set[int] = set()
    for snap in sink_log.snapshots:
        assert final[STABLE_FROM_OFFSET:len(snap)] == snap[STABLE_FROM_OFFSET:]
        changed = [i for i in range(min(len(snap), STABLE_FROM_OFFSET)) if snap[i] != final[i]]
        assert not changed or (changed[0] >= 32 and changed[-1] < 1024), (changed[:5], changed[-5:])
        all_changed.update(changed)
    print(f"\nwith audio: {len(final)} bytes, {len(durables)} durable notices; bytes rewritten at close: "
          f"{min(all_changed)}..{max(all_changed)} ({len(all_changed)} bytes), part 0 = [0, {PART_SIZE})")
    assert len(final) > 1.5 * PART_SIZE  # parts 1.. exist and were final before close
    assert all_changed and max(all_changed) < PART_SIZE
    assert os.path.getsize(path) == rec.result.total_bytes
