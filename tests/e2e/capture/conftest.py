"""Fixtures for the capture e2e tests: a private Xvfb showing a known test pattern (pattern_window.py).

A private display (not the shared ``xvfb`` fixture) because these tests check pixels and another test's window on
a shared display would change them. The display is passed explicitly (``display=``, subprocess env), never through
``os.environ``, so other test areas are not affected.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCREEN_W, SCREEN_H = 960, 540


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"needs {', '.join(missing)} (CI installs them)"
        if os.environ.get("SNAPLARK_REQUIRE_ALL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when this (pytest) process dies, even by SIGKILL, so a killed test run
    leaves no Xvfb or pattern window behind (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG = 1
    except OSError:
        pass


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen, str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
                             "-nolisten", "tcp", "-noreset", "+extension", "RANDR"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent)
    os.close(write_fd)
    data = b""
    deadline = time.monotonic() + 20
    with os.fdopen(read_fd, "rb", buffering=0) as f:
        os.set_blocking(f.fileno(), False)
        while time.monotonic() < deadline and not data.endswith(b"\n"):
            chunk = f.read()
            if chunk:
                data += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.02)
    if not data.strip():
        _stop(proc)
        raise RuntimeError("Xvfb did not report its display within 20 s")
    return proc, f":{data.decode().strip()}"


def start_pattern(display: str, width: int, height: int, *, noise: bool = False) -> subprocess.Popen:
    cmd = [sys.executable, str(HERE / "pattern_window.py"), "--width", str(width), "--height", str(height)]
    if noise:
        cmd.append("--noise")
    proc = subprocess.Popen(cmd, env={**os.environ, "DISPLAY": display}, stdout=subprocess.PIPE, text=True,
                            preexec_fn=_die_with_parent)
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(20)
    if not result or result[0].strip() != "ready":
        _stop(proc)
        raise RuntimeError("pattern window did not come up within 20 s")
    time.sleep(0.2)
    return proc


@dataclass
class PatternDisplay:
    display: str
    width: int
    height: int

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display, **extra}

    def display_info(self):
        from tray_platform.linux.display import X11DisplayInfo

        return X11DisplayInfo(display=self.display)

    def capture_factory(self, cursor: bool = False):
        from tray_platform.linux.capture import X11ScreenCapture

        return lambda: X11ScreenCapture(display=self.display, with_cursor=cursor)

    def recorder(self, path, **kwargs):
        from tray.capture.recorder import Recorder

        kwargs.setdefault("display_info", self.display_info())
        kwargs.setdefault("capture_factory", self.capture_factory(kwargs.get("cursor", False)))
        return Recorder(path, **kwargs)


@pytest.fixture(scope="session")
def pattern_display():
    """Private Xvfb 960x540 showing pattern_window.py (static gradient + solid rectangles + moving bar + noise)."""
    _need("Xvfb")
    pytest.importorskip("tkinter")
    xvfb, display = start_xvfb(SCREEN_W, SCREEN_H)
    try:
        pattern = start_pattern(display, SCREEN_W, SCREEN_H, noise=True)
    except Exception:
        _stop(xvfb)
        raise
    yield PatternDisplay(display, SCREEN_W, SCREEN_H)
    _stop(pattern)
    _stop(xvfb)


@dataclass
class SinkLog:
    """A RecordingSink that records every call, and at each ``durable(n)`` a copy of the file's bytes [0, n)."""

    path: Path | None = None
    events: list[tuple] = field(default_factory=list)
    snapshots: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def durable(self, nbytes: int) -> None:
        with self.lock:
            self.events.append(("durable", nbytes, time.monotonic()))
            if self.path is not None:
                with open(self.path, "rb") as f:
                    self.snapshots.append(f.read(nbytes))

    def finished(self, total_bytes: int, duration: float, metadata: dict) -> None:
        with self.lock:
            self.events.append(("finished", total_bytes, duration, dict(metadata), time.monotonic()))

    def failed(self, reason: str) -> None:
        with self.lock:
            self.events.append(("failed", reason, time.monotonic()))

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]

    def durables(self) -> list[int]:
        return [e[1] for e in self.events if e[0] == "durable"]


@pytest.fixture
def sink_log():
    return SinkLog()
