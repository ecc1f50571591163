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
