"""Pieces of the tray app that need no display: elapsed clock, control placement, single-instance socket."""

from __future__ import annotations

import threading

import pytest

from tray_platform.base import Region
from tray.recording import ElapsedClock
from tray.ui.recording_control import HEIGHT, WIDTH, place_outside
from tray.ui.single_instance import SingleInstance


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_elapsed_clock_excludes_pauses():
    c = FakeClock()
    e = ElapsedClock(c)
    assert e.elapsed() == 0.0 and not e.started
    e.start()
    c.t += 5
    assert e.elapsed() == 5
    e.pause()
    c.t += 100
    assert e.elapsed() == 5 and e.paused
    e.pause()  # idempotent
    e.resume()
    c.t += 2
    assert e.elapsed() == 7 and not e.paused


SCREEN = Region(0, 0, 1920, 1080)


@pytest.mark.parametrize("region,expect", [
    (Region(100, 100, 400, 300), (100, 404)),            # below
    (Region(100, 900, 400, 170), (100, 900 - HEIGHT - 4)),  # no room below -> above
    (Region(0, 0, 1000, 1080), (1004, 0)),                # full height -> right
    (Region(1800, 0, 120, 1080), (1800 - WIDTH - 4, 0)),  # full height at the right edge -> left
])
def test_control_is_placed_outside_the_region(region, expect):
    x, y = place_outside(region, SCREEN)
    assert (x, y) == expect
    overlap_x = x < region.right and region.left < x + WIDTH
    overlap_y = y < region.bottom and region.top < y + HEIGHT
    assert not (overlap_x and overlap_y)


def test_full_screen_region_falls_back_to_a_corner():
    assert place_outside(SCREEN, SCREEN) == (1920 - WIDTH, 1080 - HEIGHT)


def test_single_instance_second_launch_sends_command(tmp_path):
    first = SingleInstance(tmp_path / "i.sock")
    assert first.acquire()
    got = []
    done = threading.Event()
    first.serve(lambda cmd: (got.append(cmd), done.set()))
    try:
        second = SingleInstance(tmp_path / "i.sock")
        assert not second.acquire()
        assert second.send("capture_region") == "ok"
        assert done.wait(5)
        assert got == ["capture_region"]
        with pytest.raises(ValueError, match="unknown instance command"):
            second.send("rm -rf")
    finally:
        first.close()
    assert not (tmp_path / "i.sock").exists()


def test_stale_socket_of_a_crashed_instance_is_taken_over(tmp_path):
    import socket

    path = tmp_path / "i.sock"
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: what a kill -9 leaves behind
    inst = SingleInstance(path)
    assert inst.acquire()
    inst.close()


class RecordingNotifier:
    capabilities = frozenset()

    def __init__(self):
        self.calls = []

    def notify(self, title, body, **kw):
        self.calls.append((title, body))
        return len(self.calls)


def test_first_run_writes_defaults_and_welcomes_with_the_hotkeys(tmp_path):
    import argparse

    from tray import config
    from tray.ui.desktop import DesktopApp

    path = tmp_path / "fresh" / "config.toml"
    app = DesktopApp.from_args(argparse.Namespace(config=path))
    assert app.first_run and path.exists()
    assert config.load_config(path) == config.Settings()
    app.notifier = RecordingNotifier()
    app._welcome()
    (title, body), = app.notifier.calls
    assert title == "Snaplark is ready"
    assert "Ctrl+Alt+S" in body and "Ctrl+Alt+R" in body and "Ctrl+Alt+Q" in body

    again = DesktopApp.from_args(argparse.Namespace(config=path))
    assert not again.first_run
