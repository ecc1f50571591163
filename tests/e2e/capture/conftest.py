"""Fixtures for the capture e2e tests: a private Xvfb showing a known test pattern (pattern_window.py).

A private display (not the shared ``xvfb`` fixture) because these tests check pixels and another test's window on
a shared display would change them. The display is passed explicitly (``display=``, subprocess env), never through
``os.environ``, so other test areas are not affected.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.procutil import die_with_parent as _die_with_parent
from tests.procutil import need_tool as _need
from tests.procutil import start_xvfb
from tests.procutil import stop_process as _stop

HERE = Path(__file__).parent
SCREEN_W, SCREEN_H = 960, 540


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
