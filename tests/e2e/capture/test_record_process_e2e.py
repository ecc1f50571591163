"""The recorder as a process: SIGINT stops cleanly, SIGKILL leaves a decodable file, a full disk stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")


def record_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tray.commands.record", "--no-upload", "--no-cursor", "--output", str(out),
            *extra]


def isolated_env(pattern_display, tmp_path: Path) -> dict[str, str]:
    return pattern_display.env(SNAPLARK_CONFIG=str(tmp_path / "absent-config.toml"),
                               SNAPLARK_DATA_DIR=str(tmp_path / "data"), SNAPLARK_LOG_DIR=str(tmp_path / "log"))


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float) -> str:
    got: list[str] = []

    def read() -> None:
        for line in proc.stderr:
            got.append(line)
            if needle in line:
                return

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(timeout)
    assert got and needle in got[-1], f"no {needle!r} within {timeout} s: {got}"
    return got[-1]


def wait_size(path: Path, size: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size >= size:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {size} bytes in {timeout} s")


def decode_all(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [float(f.pts * f.time_base) for f in c.decode(c.streams.video[0])]


def test_sigint_stops_cleanly_and_the_file_is_complete(pattern_display, tmp_path):
    out = tmp_path / "int.webm"
    proc = subprocess.Popen(record_cmd(out, "--region", "640,240,320,160", "--fps", "10"),
                            env=isolated_env(pattern_display, tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(proc, "Ctrl+C to stop", 30)
        wait_size(out, 2000, 20)  # the first cluster is on disk: frames are flowing (a loaded machine starts late)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, stderr
    assert stdout.strip().splitlines()[-1] == str(out)
    with av.open(str(out)) as c:
        assert c.duration is not None and c.duration / 1e6 >= 1.0  # header rewritten at close: duration known
    pts = decode_all(out)
    assert len(pts) >= 10


def test_sigkill_leaves_a_file_that_decodes_up_to_the_last_flushed_cluster(pattern_display, tmp_path):
    out = tmp_path / "kill.webm"
    proc = subprocess.Popen(record_cmd(out, "--region", "640,240,320,160", "--fps", "10"),
                            env=isolated_env(pattern_display, tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(proc, "Ctrl+C to stop", 30)
        time.sleep(3.0)
        wait_size(out, 2000, 10)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == -signal.SIGKILL
    pts = decode_all(out)  # no exception: every complete cluster decodes
    assert len(pts) >= 10 and pts[-1] >= 1.0, pts
    probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and int(probe.stdout.strip()) == len(pts)


DISK_FULL_SCRIPT = r"""
import json, resource, signal, sys, threading
from tray_platform.base import Region
from tray.capture.recorder import Recorder

first_durable = threading.Event()

class PrintSink:
    def durable(self, n):
        print(json.dumps(["durable", n]), flush=True)
        first_durable.set()
    def finished(self, total, duration, metadata): print(json.dumps(["finished", total, duration]), flush=True)
    def failed(self, reason): print(json.dumps(["failed", reason]), flush=True)

rec = Recorder(sys.argv[1], region=Region(640, 240, 160, 160), fps=10, bitrate=2_000_000, max_duration=30,
               sink=PrintSink())
rec.start()
assert first_durable.wait(30)
# From now on the kernel refuses file writes past the limit (after mss set up its XShm memfd, which the limit
# would also hit). SIGXFSZ ignored -> write() fails with EFBIG.
limit = int(sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
assert rec.wait(60)
r = rec.result
print(json.dumps(["result", rec.state.value, r.error, r.total_bytes, r.frames]), flush=True)
"""


def test_disk_full_mid_recording_stops_cleanly_and_keeps_what_was_written(pattern_display, tmp_path):
    """RLIMIT_FSIZE makes the kernel refuse writes past the limit (EFBIG), as a full disk refuses them (ENOSPC)."""
    out = tmp_path / "full.webm"
    limit = 48 * 1024
    r = subprocess.run([sys.executable, "-c", DISK_FULL_SCRIPT, str(out), str(limit)],
                       env=isolated_env(pattern_display, tmp_path), capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    kinds = [e[0] for e in events]
    assert kinds[-3:] == ["failed", "finished", "result"], events
    assert "durable" in kinds
    failed, finished, result = events[-3:]
    assert "File too large" in failed[1] or "No space" in failed[1], failed
    assert result[1] == "failed" and result[2] == failed[1]
    size = out.stat().st_size
    assert 0 < size <= limit and finished[1] == size == result[3]
    assert 0 < finished[2] < 30
    durables = [e[1] for e in events if e[0] == "durable"]
    assert durables == sorted(durables) and durables[-1] <= size
    assert len(decode_all(out)) >= 1  # what was written before the disk filled up still plays
