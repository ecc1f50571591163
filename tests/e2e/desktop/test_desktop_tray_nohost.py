"""No tray host on the display: the icon reports it once, the app stays usable via hotkeys, and the icon is
embedded as soon as a tray host starts later (panel started after Snaplark). Runs the icon in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_helpers import require_tools, tray_selection_owned, wait_until

pytestmark = pytest.mark.e2e

CHILD = Path(__file__).with_name("tray_late_host_child.py")


def read_json(proc: subprocess.Popen, timeout: float = 10.0) -> dict:
    import select

    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise TimeoutError("child said nothing")
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"child exited: {proc.wait(timeout=5)}; stderr: {proc.stderr.read()}")
    return json.loads(line)


def test_no_tray_host_reported_once_then_icon_embeds_when_a_host_starts(desktop_display, desktop_bus):
    require_tools("trayer", "xdotool")
    if tray_selection_owned():
        pytest.skip("a tray host is already running on this display")
    child = subprocess.Popen([sys.executable, str(CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    trayer = None
    try:
        first = read_json(child)
        assert first["started"] is False and first["available"] is False
        assert "no system tray host" in first["reason"]
        assert len(first["told"]) == 1 and "use the global hotkeys (Ctrl+Alt+S)" in first["told"][0]

        trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel",
                                   "--width", "120", "--height", "32", "--SetDockType", "false"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(tray_selection_owned, 10, what="trayer")

        def embedded() -> bool:
            out = subprocess.run(["xdotool", "search", "--onlyvisible", "--classname", "snaplark"],
                                 capture_output=True, text=True, timeout=10).stdout.split()
            for wid in out:
                info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True, timeout=10).stdout
                if "Width: 32" in info or "Width: 30" in info:
                    return True
            return False

        wait_until(embedded, 10, interval=0.2, what="late embedding of the tray icon")
        child.stdin.write("check\n")
        child.stdin.flush()
        second = read_json(child)
        assert second == {"host": True, "available": True, "told": first["told"]}  # not told again
    finally:
        if child.poll() is None:
            try:
                child.stdin.write("quit\n")
                child.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=5)
        if trayer is not None:
            trayer.terminate()
            try:
                trayer.wait(timeout=5)
            except subprocess.TimeoutExpired:
                trayer.kill()
                trayer.wait(timeout=5)
