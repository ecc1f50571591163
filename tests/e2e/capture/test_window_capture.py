"""Window capture end to end (issue 19): ``snaplark shot --window ID|TITLE`` / ``--active-window`` with and without
the frame, under a window manager that draws frames (openbox) on a private Xvfb, the CLI in a subprocess.

The oracle is independent of the code under test: the window's content is pattern_window's known gradient (pixel
for pixel), and its frame is the window Tk itself reports as its outermost frame (``wm frame``), measured with
xwininfo and grabbed from the screen with mss.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

from tests.procutil import die_with_parent, need_tool, start_xvfb, stop_process, wait_until

HERE = Path(__file__).parent
ARTIFACTS = HERE.parents[2] / "test-artifacts"


def save_artifact(image: Image.Image, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / f"{name}.png")


def _gradient() -> Image.Image:
    sys.path.insert(0, str(HERE))
    try:
        from pattern_window import gradient_ppm
    finally:
        sys.path.remove(str(HERE))
    import io

    return Image.open(io.BytesIO(gradient_ppm())).convert("RGB")


def _root_property(display: str, name: str) -> str:
    out = subprocess.run(["xprop", "-display", display, "-root", name], capture_output=True, text=True, timeout=10)
    return out.stdout


@pytest.fixture(scope="module")
def framed_display():
    """A private 800x600 Xvfb managed by openbox (frames with a title bar and borders)."""
    need_tool("Xvfb", "openbox", "xwininfo", "xprop", "xdotool")
    xvfb, display = start_xvfb(800, 600)
    env = {**os.environ, "DISPLAY": display}
    env.pop("WAYLAND_DISPLAY", None)
    env["XDG_SESSION_TYPE"] = "x11"
    wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          preexec_fn=die_with_parent)
    try:
        wait_until(lambda: "window id #" in _root_property(display, "_NET_SUPPORTING_WM_CHECK"), 20,
                   "openbox to manage the display")
        yield env
    finally:
        stop_process(wm)
        stop_process(xvfb)


class Window:
    def __init__(self, env: dict, title: str, x: int, y: int, *extra: str):
        self.title = title
        self.proc = subprocess.Popen([sys.executable, str(HERE / "framed_window.py"), title, str(x), str(y), *extra],
                                     env=env, stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(20)
        if not line or not line[0].startswith("ready "):
            stop_process(self.proc)
            raise RuntimeError(f"test window {title!r} did not come up within 20 s")
        self.frame_id = int(line[0].split()[1])
        self.env = env

    def frame_geometry(self) -> tuple[int, int, int, int]:
        out = subprocess.run(["xwininfo", "-id", str(self.frame_id)], env=self.env, capture_output=True, text=True,
                             timeout=10).stdout
        get = {k: int(re.search(rf"{k}:\s+(-?\d+)", out).group(1))
               for k in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")}
        return (get["Absolute upper-left X"], get["Absolute upper-left Y"], get["Width"], get["Height"])

    def close(self) -> None:
        stop_process(self.proc)


def _grab(env: dict, box: tuple[int, int, int, int]) -> Image.Image:
    import mss

    x, y, w, h = box
    with mss.MSS(display=env["DISPLAY"]) as sct:
        shot = sct.grab({"left": x, "top": y, "width": w, "height": h})
        return Image.frombytes("RGB", shot.size, shot.rgb)


def _shot(env: dict, tmp_path: Path, *args: str, name: str = "w.png") -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "tray", "shot", *args, "--output", str(out)], env=env,
                          capture_output=True, text=True, timeout=60)
    return proc, out


def test_window_by_title_without_and_with_frame(framed_display, tmp_path):
    env = framed_display
    gradient = _gradient()
    win = Window(env, "Snaplark pattern A", 120, 90)
    try:
        proc, out = _shot(env, tmp_path, "--window", "pattern a", "--no-frame", name="content.png")
        assert proc.returncode == 0, proc.stderr
        content = Image.open(out).convert("RGB")
        assert content.size == (256, 128)
        assert content.tobytes() == gradient.tobytes()  # exactly the window's pixels

        proc, out = _shot(env, tmp_path, "--window", "pattern a", name="framed.png")  # the default: with frame
        assert proc.returncode == 0, proc.stderr
        framed = Image.open(out).convert("RGB")
        fx, fy, fw, fh = win.frame_geometry()
        assert framed.size == (fw, fh) and fh > 128 + 10  # openbox's title bar is in
        assert framed.tobytes() == _grab(env, (fx, fy, fw, fh)).tobytes()
        # the content sits inside the frame once, unchanged (below the title bar)
        found = [(x, y) for y in range(fh - 127) for x in range(fw - 255)
                 if framed.crop((x, y, x + 256, y + 128)).tobytes() == gradient.tobytes()]
        assert len(found) == 1 and found[0][1] > 10, found
        save_artifact(framed, "window-capture-framed")
    finally:
        win.close()


def test_covered_window_by_id_is_brought_to_the_front(framed_display, tmp_path):
    env = framed_display
    target = Window(env, "Snaplark pattern B", 100, 100)
    cover = Window(env, "Snaplark cover", 150, 130, "--cover")  # lies over most of B's content
    try:
        client = subprocess.run(["xdotool", "search", "--name", "Snaplark pattern B"], env=env, capture_output=True,
                                text=True, timeout=10).stdout.split()
        assert len(client) == 1
        info = subprocess.run(["xwininfo", "-id", client[0]], env=env, capture_output=True, text=True,
                              timeout=10).stdout
        x, y = (int(re.search(rf"Absolute upper-left {a}:\s+(-?\d+)", info).group(1)) for a in "XY")
        assert _grab(env, (x, y, 256, 128)).tobytes() != _gradient().tobytes()  # covered before the shot
        proc, out = _shot(env, tmp_path, "--window", hex(int(client[0])), "--no-frame")
        assert proc.returncode == 0, proc.stderr
        assert Image.open(out).convert("RGB").tobytes() == _gradient().tobytes()
    finally:
        cover.close()
        target.close()


def test_active_window_with_frame(framed_display, tmp_path):
    env = framed_display
    other = Window(env, "Snaplark other", 400, 300, "--cover")
    win = Window(env, "Snaplark pattern C", 60, 60)
    try:
        subprocess.run(["xdotool", "search", "--name", "Snaplark pattern C", "windowactivate", "--sync"], env=env,
                       check=True, timeout=10)
        proc, out = _shot(env, tmp_path, "--active-window")
        assert proc.returncode == 0, proc.stderr
        fx, fy, fw, fh = win.frame_geometry()
        shot = Image.open(out).convert("RGB")
        assert shot.size == (fw, fh)
        assert shot.tobytes() == _grab(env, (fx, fy, fw, fh)).tobytes()
        proc, out = _shot(env, tmp_path, "--active-window", "--no-frame", name="c.png")
        assert proc.returncode == 0, proc.stderr
        assert Image.open(out).convert("RGB").tobytes() == _gradient().tobytes()
    finally:
        win.close()
        other.close()


def test_window_problems_are_named(framed_display, tmp_path):
    env = framed_display
    one, two = Window(env, "Snaplark twin 1", 10, 10), Window(env, "Snaplark twin 2", 300, 10)
    try:
        proc, out = _shot(env, tmp_path, "--window", "no such title here")
        assert proc.returncode == 1 and "no visible window's title contains 'no such title here'" in proc.stderr
        assert "Snaplark twin 1" in proc.stderr and not out.exists()
        proc, out = _shot(env, tmp_path, "--window", "snaplark twin")
        assert proc.returncode == 1 and "2 windows' titles contain 'snaplark twin'" in proc.stderr
        proc, out = _shot(env, tmp_path, "--window", "0x7777777")
        assert proc.returncode == 1 and "no visible top-level window has the id 0x7777777" in proc.stderr
        proc, out = _shot(env, tmp_path, "--screen", "0", "--no-frame")
        assert proc.returncode == 2 and "--frame/--no-frame go with --window or --active-window" in proc.stderr
        proc, out = _shot(env, tmp_path, "--window", "twin 1", "--screen", "0")
        assert proc.returncode == 2 and "not allowed with" in proc.stderr
        assert "Traceback" not in proc.stderr and not out.exists()
    finally:
        one.close()
        two.close()


def test_wayland_says_window_capture_is_not_available(framed_display, tmp_path):
    proc, out = _shot({**framed_display, "SNAPLARK_SESSION": "wayland"}, tmp_path, "--active-window")
    assert proc.returncode == 1, proc.stderr
    assert "window capture is not available on Wayland" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
