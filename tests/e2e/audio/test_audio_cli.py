"""``snaplark record --audio ...`` from the command line (issue 14, acceptance 6 minus the browser): the real CLI in a
subprocess against the private PulseAudio; the file's Opus track has the tone that was playing."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from .conftest import tone
from .test_audio_e2e import RATE, band_share, decode_audio


def record(pulse, display, tmp_path, *args, seconds=3):
    out = tmp_path / "cli.webm"
    env = pulse.env(DISPLAY=display, SNAPLARK_CONFIG=str(tmp_path / "cfg.toml"),
                    SNAPLARK_DATA_DIR=str(tmp_path / "data"), SNAPLARK_LOG_DIR=str(tmp_path / "log"))
    (tmp_path / "cfg.toml").write_text("")
    proc = subprocess.run([sys.executable, "-m", "tray", "record", "--duration", str(seconds), "--fps", "10",
                           "--no-upload", "--output", str(out), *args], env=env, capture_output=True, text=True,
                          timeout=120)
    return proc, out


@pytest.mark.parametrize("mode, present, absent", [("system", 440, 1000), ("mic", 1000, 440)])
def test_record_with_audio_from_the_cli(pulse, beacon_display, tmp_path, mode, present, absent):
    players = [pulse.play("speakers", tone(440, 12)), pulse.play("micwire", tone(1000, 12))]
    try:
        time.sleep(0.3)
        proc, out = record(pulse, beacon_display, tmp_path, "--audio", mode)
    finally:
        for p in players:
            p.kill()
            p.wait(10)
    assert proc.returncode == 0, proc.stderr
    samples, _start = decode_audio(out)
    assert abs(len(samples) / RATE - 3.0) <= 0.1
    tail = samples[RATE // 2:]
    assert band_share(tail, present) > 0.3 and band_share(tail, absent) < 1e-3


def test_auto_takes_the_microphone_and_an_unknown_one_is_a_clear_error(pulse, beacon_display, tmp_path):
    proc, out = record(pulse, beacon_display, tmp_path, seconds=2)  # capture.audio defaults to auto
    assert proc.returncode == 0, proc.stderr
    assert decode_audio(out) is not None  # the private server has a microphone: auto recorded it
    proc, out2 = record(pulse, beacon_display, tmp_path, "--audio", "mic", "--mic-device", "no-such-mic")
    assert proc.returncode == 2 and "no-such-mic" in proc.stderr and "testmic" in proc.stderr
