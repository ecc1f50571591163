"""Fixtures for the recording-UI e2e tests (issue 12 #2, #3, #5, #6): a private Xvfb showing a still test pattern,
and the tray app's ``DesktopApp`` on it with its real recording path (countdown, recorder, control bar, border,
notification hold) and stand-ins for the tray icon and the notifier.

A private display, because the tests check pixels of the screen and of the recorded file. Tk, mss and xdotool
reach it through ``DISPLAY``, set for each test and restored afterwards. The display lives for the whole session:
Tk keeps its X connection after ``root.destroy()``, and the next Tk event loop in this process would die of an X IO
error on a display that was stopped. The Tk root lives on the test's thread; the tests pump ``root.update()`` in
bounded loops (recording_helpers.pump_until).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from recording_helpers import ARTIFACTS, grab_screen, pump, pump_until  # noqa: E402

from tests.procutil import die_with_parent, need_tool, start_xvfb, stop_process  # noqa: E402

PATTERN = Path(__file__).resolve().parents[1] / "capture" / "pattern_window.py"
SCREEN_W, SCREEN_H = 960, 540


@dataclasses.dataclass
class PatternScreen:
    display: str
    width: int
    height: int
    reference: np.ndarray  # the screen as the pattern draws it (RGB), with none of our windows

    @property
    def region(self):
        from tray_platform.base import Region

        return Region(0, 0, self.width, self.height)


@pytest.fixture(scope="session")
def pattern_display():
    """Private 960x540 Xvfb with pattern_window.py held still (no moving bar, no noise): every pixel is known."""
    need_tool("Xvfb", "xdotool", "import")
    pytest.importorskip("tkinter")
    pytest.importorskip("av")
    xvfb, display = start_xvfb(SCREEN_W, SCREEN_H)
    pattern = None
    try:
        pattern = subprocess.Popen([sys.executable, str(PATTERN), "--width", str(SCREEN_W), "--height",
                                    str(SCREEN_H), "--interval-ms", "3600000"],
                                   env={**os.environ, "DISPLAY": display}, stdout=subprocess.PIPE, text=True,
                                   preexec_fn=die_with_parent)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(pattern.stdout.readline()), daemon=True)
        reader.start()
        reader.join(20)
        if not line or line[0].strip() != "ready":
            pytest.fail("the pattern window did not come up within 20 s")
        time.sleep(0.3)
        with pytest.MonkeyPatch.context() as env:
            env.setenv("DISPLAY", display)
            reference = grab_screen()
        yield PatternScreen(display, SCREEN_W, SCREEN_H, reference)
    finally:
        if pattern is not None:
            stop_process(pattern)
        stop_process(xvfb)


@pytest.fixture
def pattern_screen(pattern_display, monkeypatch):
    """The pattern display as this test's ``DISPLAY`` (a plain X11 session)."""
    monkeypatch.setenv("DISPLAY", pattern_display.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    return pattern_display


class FakeTray:
    """Stands in for TrayIcon: records what the app shows on it."""

    available = True

    def __init__(self):
        self.states: list = []
        self.recording: list[tuple[bool, bool]] = []

    def set_state(self, state, *, percent=None, elapsed=None):
        self.states.append(state)

    def set_recording(self, recording, *, paused=False):
        self.recording.append((recording, paused))

    def add_recent(self, upload):
        pass

    def show_upload_event(self, event):
        pass

    def check_host(self):
        return True


class FakeNotifier:
    """Records notifications with the time they were shown."""

    capabilities = frozenset({"update_in_place"})

    def __init__(self):
        self.calls: list[tuple[float, str, str]] = []

    def notify(self, title, body, **kw):
        self.calls.append((time.monotonic(), title, body))
        return len(self.calls)

    def progress(self, title, body, percent, *, replaces=None):
        self.calls.append((time.monotonic(), title, body))
        return replaces or len(self.calls)

    def close(self, nid):
        pass


@pytest.fixture
def make_app(pattern_screen, tmp_path):
    """``make_app(countdown=N)`` -> a DesktopApp on the pattern screen, not uploading (recordings stay in
    ``tmp_path/captures``). Torn down after the test: any recording stopped, the Tk root destroyed."""
    import tkinter as tk

    from tray import config
    from tray.ui.desktop import DesktopApp
    from tray.ui.dispatcher import UiDispatcher
    from tray.ui.notifications import ProgressNotifier

    made = []

    def make(countdown: int = 0) -> DesktopApp:
        s = config.Settings()
        settings = dataclasses.replace(
            s, capture=dataclasses.replace(s.capture, countdown=countdown, fps=10, cursor=False),
            upload=dataclasses.replace(s.upload, auto_upload=False, save_dir=str(tmp_path / "captures")))
        app = DesktopApp(settings)
        app.root = tk.Tk()
        app.root.withdraw()
        app.dispatcher = UiDispatcher(app.root, interval_ms=5)
        app.dispatcher.start()
        app.tray = FakeTray()
        app.notifier = FakeNotifier()
        app.progress = ProgressNotifier(app.notifier, post=app.dispatcher.post)
        made.append(app)
        return app

    yield make
    for app in made:
        countdown = getattr(app, "countdown", None)
        if countdown is not None:
            countdown.cancel()
        if app.recording is not None:
            app.stop_recording()
            try:
                pump_until(app.root, lambda: app.recording is None, 30, "the recording to end at teardown")
            except TimeoutError:
                app.recording.session.stop(timeout=30)
        pump(app.root, 0.1)
        app.dispatcher.stop()
        app.root.update()
        app.root.destroy()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
