"""``snaplark shot --pin`` and ``--delay`` (issue 19 items 2, 3): the real CLI in a subprocess on the Xvfb display,
checked by what the screen shows (mss) and by the saved PNG."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.procutil import need_tool

from .conftest import grab_root, pixels, pump, screenshot, xdotool
from .test_pin import blocks

pytestmark = pytest.mark.e2e


def show_image(root, img: Image.Image, x: int, y: int):
    import tkinter as tk

    from PIL import ImageTk

    win = tk.Toplevel(root)
    win.overrideredirect(True)
    photo = ImageTk.PhotoImage(img, master=win)
    tk.Label(win, image=photo, borderwidth=0, highlightthickness=0).pack()
    win.photo = photo
    win.geometry(f"{img.width}x{img.height}+{x}+{y}")
    assert pump(root, lambda: win.winfo_viewable(), timeout=5)
    pump(root, timeout=0.15)
    return win


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tray", "shot", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def wait_proc(root, proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        root.update()
        time.sleep(0.01)
    if proc.poll() is None:
        proc.kill()
        out, err = proc.communicate(timeout=5)
        raise TimeoutError(f"snaplark shot did not finish in {timeout} s: {err}")
    return proc.communicate(timeout=5)


def test_shot_pin_keeps_the_region_on_screen_until_escape(tk_root, tmp_path):
    img = blocks(200, 150, seed=3)
    win = show_image(tk_root, img, 300, 200)
    out = tmp_path / "pinned.png"
    proc = start_cli("--region", "300,200,200,150", "--pin", "--output", str(out))
    assert pump(tk_root, lambda: out.exists() and proc.poll() is None, timeout=30), proc.poll()
    win.destroy()  # the pin alone shows those pixels from now on
    assert pump(tk_root, lambda: pixels(grab_root().crop((300, 200, 500, 350))) == pixels(img), timeout=10)
    assert grab_root().getpixel((299, 199)) == (0x2f, 0x8c, 0xff)  # its border
    screenshot("shot-pin")
    assert pixels(Image.open(out).convert("RGB")) == pixels(img)
    assert proc.poll() is None  # the command lives while the pin is open
    xdotool(tk_root, "mousemove", "400", "275", "mousedown", "1", "mousemove", "450", "300", "mousemove", "500",
            "325", "mouseup", "1")
    assert pump(tk_root, lambda: pixels(grab_root().crop((400, 250, 600, 400))) == pixels(img), timeout=10)
    xdotool(tk_root, "key", "Escape")
    out_text, err = wait_proc(tk_root, proc, 15)
    assert proc.returncode == 0, err
    assert out_text.strip() == str(out) and "pinned" in err


COUNTDOWN_BG = (0x20, 0x20, 0x20)


def countdown_box(screen: Image.Image) -> tuple[int, int, int, int] | None:
    """Where the countdown's dark square is (bottom-right corner), or None: scanned along the bottom row."""
    w, h = screen.size
    if screen.getpixel((w - 3, h - 3)) != COUNTDOWN_BG:
        return None
    left = w - 3
    while left > 0 and screen.getpixel((left - 1, h - 3)) == COUNTDOWN_BG:
        left -= 1
    top = h - 3
    while top > 0 and screen.getpixel((w - 3, top - 1)) == COUNTDOWN_BG:
        top -= 1
    return (left, top, w, h)


def test_shot_delay_shows_a_countdown_that_is_not_in_the_shot(tk_root, tmp_path):
    background = blocks(1280, 720, seed=21)
    win = show_image(tk_root, background, 0, 0)
    out = tmp_path / "delayed.png"
    started = time.monotonic()
    proc = start_cli("--screen", "0", "--delay", "2", "--output", str(out))
    seen: list[tuple] = []

    def countdown_seen() -> bool:
        box = countdown_box(grab_root())
        if box:
            seen.append(box)
        return bool(box)

    assert pump(tk_root, countdown_seen, timeout=10), "no countdown on screen"
    screenshot("shot-delay-countdown")
    elapsed_at_sight = time.monotonic() - started
    _, err = wait_proc(tk_root, proc, 30)
    took = time.monotonic() - started
    assert proc.returncode == 0, err
    left, top, _, _ = seen[0]
    assert 100 <= 1280 - left <= 400 and 100 <= 720 - top <= 400, seen[0]  # a square of some 200 px in the corner
    assert took >= 2.0 and elapsed_at_sight < took
    shot = Image.open(out).convert("RGB")
    assert shot.size == (1280, 720)
    assert pixels(shot) == pixels(background)  # the countdown is not in it, nothing else either
    win.destroy()


@pytest.mark.parametrize("delay", ["-1", "61", "3600"])
def test_shot_refuses_a_negative_or_absurd_delay(tk_root, tmp_path, delay):
    out = tmp_path / "never.png"
    proc = start_cli("--screen", "0", "--delay", delay, "--output", str(out))
    _, err = wait_proc(tk_root, proc, 30)
    assert proc.returncode == 2
    assert f"--delay must be 0 to 60 seconds, got {delay}" in err
    assert not out.exists()


def test_tray_capture_screen_in_n_seconds(tk_root, tmp_path, monkeypatch):
    """The tray's "Capture screen in 5 s" (CaptureFlow, 2 s here): the countdown shows, then the annotator opens
    with the screen as it was without the countdown."""
    from tray import config
    from tray.ui.capture_flow import CaptureFlow
    from tray.ui.context import TrayContext

    monkeypatch.setenv("SNAPLARK_DATA_DIR", str(tmp_path / "data"))
    background = blocks(1280, 720, seed=77)
    win = show_image(tk_root, background, 0, 0)
    ctx = TrayContext(config.Settings())
    ctx.root = tk_root
    flow = CaptureFlow(ctx, recent=None)
    started = time.monotonic()
    flow.capture_screen_in(2)
    assert flow.countdown is not None
    assert pump(tk_root, lambda: countdown_box(grab_root()) is not None, timeout=5)
    assert pump(tk_root, lambda: flow.annotator is not None, timeout=10)
    assert time.monotonic() - started >= 2.0
    assert flow.countdown is None
    frozen = flow.annotator.document.base.convert("RGB")
    assert pixels(frozen) == pixels(background)
    flow.annotator.close()
    win.destroy()
