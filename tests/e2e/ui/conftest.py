"""Fixtures for the Tk UI e2e tests: a Tk root on the shared Xvfb display, event pumping with a deadline,
xdotool driving, and screenshots into ``test-artifacts/``."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image, ImageDraw

from tests.procutil import need_tool

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture
def tk_root(xvfb):
    need_tool("xdotool")
    import tkinter as tk

    root = tk.Tk()
    root.withdraw()
    root.update()
    yield root
    import gc

    gc.collect()  # finalise this test's Tk objects here, on the Tk thread
    try:
        root.destroy()
    except tk.TclError:
        pass


def pump(root, until: Callable[[], bool] | None = None, timeout: float = 5.0) -> bool:
    """Process Tk events until ``until()`` is true or ``timeout`` s pass. Returns the predicate's last value."""
    deadline = time.monotonic() + timeout
    while True:
        root.update()
        if until is not None and until():
            return True
        if time.monotonic() >= deadline:
            return bool(until and until())
        time.sleep(0.005)


def xdotool(root, *args: str, timeout: float = 10.0) -> None:
    """Run xdotool while keeping Tk responsive (a grab or a drag needs the app to process events)."""
    proc = subprocess.Popen(["xdotool", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait(5)
            raise TimeoutError(f"xdotool {' '.join(args)} did not finish in {timeout} s")
        root.update()
        time.sleep(0.005)
    out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0, f"xdotool {args} failed: {err.decode(errors='replace')}"
    pump(root, timeout=0.05)


def screenshot(name: str) -> Path:
    """Grab the whole X root window into test-artifacts/<name>.png (mss; the caller looks at it)."""
    import mss

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    with mss.MSS() as sct:
        shot = sct.grab(sct.monitors[0])
        Image.frombytes("RGB", shot.size, shot.rgb).save(path)
    return path


def grab_root() -> Image.Image:
    import mss

    with mss.MSS() as sct:
        shot = sct.grab(sct.monitors[0])
        return Image.frombytes("RGB", shot.size, shot.rgb)


def pixels(img: Image.Image) -> list:
    getter = getattr(img, "get_flattened_data", None) or img.getdata
    return list(getter())


def fake_desktop(w: int = 1280, h: int = 720) -> Image.Image:
    """A recognisable 'desktop' to freeze: gradient wallpaper, two windows with text, a chequered patch."""
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    for y in range(h):
        d.line([(0, y), (w, y)], fill=(30 + 40 * y // h, 70 + 60 * y // h, 120 + 80 * y // h))
    d.rectangle((80, 60, 620, 420), fill=(245, 245, 245), outline=(90, 90, 90))
    d.rectangle((80, 60, 620, 90), fill=(60, 60, 70))
    d.text((92, 68), "Terminal - snaplark", fill=(255, 255, 255))
    for i in range(12):
        d.text((92, 104 + 24 * i), f"$ echo line {i}: the quick brown fox jumps", fill=(20, 20, 20))
    d.rectangle((700, 200, 1200, 600), fill=(255, 250, 230), outline=(90, 90, 90))
    d.ellipse((760, 260, 960, 460), fill=(229, 57, 53))
    d.rectangle((1000, 260, 1160, 420), fill=(67, 160, 71))
    for y in range(460, 580, 10):
        for x in range(1000, 1180, 10):
            if (x // 10 + y // 10) % 2:
                d.rectangle((x, y, x + 9, y + 9), fill=(0, 0, 0))
    return img


def answer_dialog(title: str, key: str) -> threading.Thread:
    """Press ``key`` (an Alt accelerator of the Tk dialog's buttons: idempotent) in the dialog titled ``title``
    until it goes away (xdotool; bounded: 20 s)."""
    def dialogs() -> list[str]:
        return subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{title}$"], capture_output=True,
                              text=True, timeout=10).stdout.split()

    def run():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not dialogs():
            time.sleep(0.1)
        while time.monotonic() < deadline and (found := dialogs()):
            subprocess.run(["xdotool", "windowfocus", found[-1]], timeout=10, stderr=subprocess.DEVNULL)
            time.sleep(0.2)
            subprocess.run(["xdotool", "key", key], timeout=10)  # XTEST: pressed and released like a keyboard
            gone = time.monotonic() + 3
            while time.monotonic() < gone and dialogs():
                time.sleep(0.1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
