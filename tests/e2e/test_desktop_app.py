"""The whole tray app end to end, as a user drives it: a real Xvfb display, a real tray host (trayer), a private
D-Bus session with gnome-keyring and a recording org.freedesktop.Notifications service, the real embedded server.

1. Ctrl+Alt+S (xdotool) -> selector -> drag -> annotator -> draw an arrow and a rectangle -> Ctrl+U -> the clipboard
   holds a URL whose PNG has the drawn pixels.
2. Tray menu "Record region" -> drag -> stop -> the clipboard holds the recording's URL; the video decodes.
3. Progress notifications update one notification id in place.
Screenshots of each step go to test-artifacts/app/.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.e2e.desktop.recording_notification_service import (
    RecordingNotificationService,
)
from tests.procutil import need_tool, wait_until
from tests.share_links import file_of, new_link

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "app"
RED = (229, 57, 53)  # first palette colour, the annotator's default


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args: str, timeout: float = 10) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout).stdout


def xdo(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=15)


def drag_through(origin: tuple[int, int], points, settle: float = 0.1) -> None:
    """Press at the first of ``points`` (relative to ``origin``, e.g. the annotator canvas's top-left), move through
    the rest one xdotool call each (Tk merges motion events that come in a burst, and the pen would draw a straight
    line), release, and give the app ``settle`` s."""
    ox, oy = origin
    (px, py), rest = points[0], points[1:]
    xdo("mousemove", str(ox + px), str(oy + py), "mousedown", "1")
    for qx, qy in rest:
        time.sleep(0.03)
        xdo("mousemove", str(ox + qx), str(oy + qy))
    xdo("mouseup", "1")
    time.sleep(settle)


def record_region(app: AppProcess, mark: int, corner: tuple[int, int], via: tuple[int, int],
                  end: tuple[int, int]) -> re.Match:
    """After a record hotkey or menu item: wait for the selector, drag ``corner`` -> ``via`` -> ``end``, Return; the
    app's "recording Region(left, top, width, height) to <spool>.webm" log line (groups 1-5)."""
    app.wait_log(r"selector shown", 15, mark)
    time.sleep(0.3)
    xdo("mousemove", *map(str, corner), "mousedown", "1")
    xdo("mousemove", *map(str, via), "mousemove", *map(str, end))
    xdo("mouseup", "1")
    xdo("key", "Return")
    return app.wait_log(r"recording Region\(left=(\d+), top=(\d+), width=(\d+), height=(\d+)\) to (\S+\.webm)", 15,
                        mark)


def snap(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=20)
    return path


def clipboard() -> str:
    return subprocess.run(["xclip", "-o", "-selection", "clipboard"], capture_output=True, text=True,
                          timeout=5).stdout.strip()


def tray_icon_window() -> int | None:
    for wid in sh("xdotool", "search", "--onlyvisible", "--classname", "snaplark").split():
        info = sh("xwininfo", "-id", wid)
        w = int(re.search(r"Width:\s+(\d+)", info).group(1))
        if "Override Redirect State: no" in info and 16 <= w <= 64 and "panel" not in info:
            x = int(re.search(r"Absolute upper-left X:\s+(-?\d+)", info).group(1))
            if x > 0:
                return int(wid)
    return None


class AppProcess:
    def __init__(self, env: dict, log_dir: Path):
        self.log_file = log_dir / "app.out"
        self.proc = subprocess.Popen([sys.executable, "-m", "tray", "-v"], env=env,
                                     stdout=self.log_file.open("w"), stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float, after: int = 0) -> re.Match:
        def found():
            if self.proc.poll() is not None:
                raise AssertionError(f"app exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            return re.search(pattern, self.log()[after:])
        try:
            return wait_until(found, timeout, f"log line {pattern!r}")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n--- app log tail ---\n{self.log()[-3000:]}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def desktop(xvfb, keyring_env, tmp_path, desktop_capture):
    need_tool("trayer", "xdotool", "xclip", "import", "xwininfo")
    notifications = RecordingNotificationService().start()
    env = dict(keyring_env)
    env.update(DISPLAY=os.environ["DISPLAY"], PYSTRAY_BACKEND="gtk",
               SNAPLARK_CONFIG=str(tmp_path / "cfg" / "config.toml"), SNAPLARK_DATA_DIR=str(tmp_path / "data"),
               SNAPLARK_LOG_DIR=str(tmp_path / "log"), SNAPLARK_CLIPBOARD="linux")
    cfg = Path(env["SNAPLARK_CONFIG"])
    cfg.parent.mkdir(parents=True)
    trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                               "--height", "32", "--SetDockType", "true"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = None
    # something to look at: a colourful pattern as the root window's background
    pattern = tmp_path / "pattern.png"
    Image.radial_gradient("L").resize((1280, 720)).convert("RGB").save(pattern)
    subprocess.run(["display", "-window", "root", str(pattern)], timeout=30, env=env)  # exits 1 without a WM
    try:
        wait_until(lambda: "trayer" in sh("xwininfo", "-root", "-tree"), 10, "trayer panel")
        # first run: no config file yet -> defaults + welcome; the embedded server on a free port via env config
        capture = {"countdown": 0, "fps": 10, **desktop_capture}
        cfg.write_text(f"schema_version = 2\n[server]\nembedded_port = {free_port()}\n[capture]\n"
                       + "".join(f"{key} = {json.dumps(value)}\n" for key, value in capture.items()))
        app = AppProcess(env, tmp_path)
        app.wait_log(r"tray app running", 60)
        yield app, notifications, tmp_path
    finally:
        if app is not None:
            app.stop()
        trayer.terminate()
        trayer.wait(10)
        notifications.stop()


def red_pixels(img: Image.Image) -> list[tuple[int, int]]:
    rgb = img.convert("RGB")
    w, h = rgb.size
    px = rgb.load()
    return [(x, y) for y in range(h) for x in range(w)
            if abs(px[x, y][0] - RED[0]) < 40 and abs(px[x, y][1] - RED[1]) < 40 and abs(px[x, y][2] - RED[2]) < 40]


def test_hotkey_capture_annotate_upload_and_record_from_tray_menu(desktop):
    app, notifications, tmp_path = desktop
    icon = wait_until(tray_icon_window, 20, "tray icon embedded in trayer")
    snap("01-tray-idle.png")

    # --- 1. hotkey -> selector -> drag -> annotator --------------------------------------------------------
    mark = len(app.log())
    xdo("key", "ctrl+alt+s")
    app.wait_log(r"selector shown", 15, mark)
    time.sleep(0.3)
    xdo("mousemove", "100", "150", "mousedown", "1")
    xdo("mousemove", "300", "250", "mousemove", "500", "450")
    snap("02-selector.png")
    xdo("mouseup", "1")
    xdo("key", "Return")
    m = app.wait_log(r"annotator shown: image (\d+)x(\d+), canvas at (-?\d+),(-?\d+) scale ([\d.]+)", 15, mark)
    w, h, cx, cy, scale = int(m[1]), int(m[2]), int(m[3]), int(m[4]), float(m[5])
    assert (w, h) == (400, 300)
    assert scale == 1.0

    # arrow (the default tool) from (40,40) to (200,120); then 'r' = rectangle tool, (250,150)-(360,260)
    xdo("mousemove", str(cx + 40), str(cy + 40), "mousedown", "1")
    xdo("mousemove", str(cx + 120), str(cy + 80), "mousemove", str(cx + 200), str(cy + 120))
    xdo("mouseup", "1")
    xdo("key", "r")
    xdo("mousemove", str(cx + 250), str(cy + 150), "mousedown", "1")
    xdo("mousemove", str(cx + 300), str(cy + 200), "mousemove", str(cx + 360), str(cy + 260))
    xdo("mouseup", "1")
    time.sleep(0.3)
    snap("03-annotator.png")
    before = clipboard()
    xdo("key", "ctrl+u")
    link = new_link(clipboard, before, "/s/", 30, "screenshot link on the clipboard")
    url = file_of(link)  # the share page (upload.copy = "page", the default) names the PNG in og:image
    assert url.endswith(".png"), (link, url)
    png = Image.open(io.BytesIO(requests.get(url, timeout=10).content))
    assert png.format == "PNG" and png.size == (400, 300)
    reds = red_pixels(png)
    assert len(reds) > 500, "annotations missing from the uploaded PNG"
    # the arrow's shaft and the rectangle's outline are where they were drawn
    assert any(abs(x - 120) < 6 and abs(y - 80) < 6 for x, y in reds), "arrow midpoint not red"
    assert any(abs(x - 250) < 4 and 160 < y < 250 for x, y in reds), "rectangle left edge not red"
    assert not any(280 < x < 330 and 180 < y < 230 for x, y in reds), "rectangle interior was filled"
    ids = {c.returned_id for c in notifications.calls if "uploaded" in c.summary.lower()}
    assert ids, [c.summary for c in notifications.calls]
    snap("04-uploaded-notification.png")
    wait_until(lambda: not sh("xdotool", "search", "--onlyvisible", "--name", "annotate").strip(), 10,
               "annotator closed after upload")

    # --- 2. tray menu "Record region" -> drag -> stop -> URL -------------------------------------------------
    mark = len(app.log())
    xdo("mousemove", "--window", str(icon), "8", "8", "click", "3")
    time.sleep(0.8)
    snap("05-tray-menu.png")
    xdo("key", "Down", "Down", "Down", "Return")  # Capture region, Capture screen, Record region
    rec = record_region(app, mark, (600, 200), (800, 300), (921, 441))
    assert (int(rec[3]), int(rec[4])) == (321, 241)
    # something moves in the region while recording: a few xdotool mouse moves over it
    for i in range(10):
        xdo("mousemove", str(620 + 25 * i), str(220 + 15 * i))
        time.sleep(0.2)
    snap("06-recording.png")
    before = clipboard()
    xdo("key", "ctrl+alt+q")
    video_link = new_link(clipboard, before, "/v/", 60, "recording link on the clipboard")
    video_url = file_of(video_link)
    assert video_url.endswith(".webm"), (video_link, video_url)
    body = requests.get(video_url, timeout=20).content
    local = Path(rec[5]).read_bytes()
    assert body == local, "server copy differs from the local recording"
    import av

    with av.open(io.BytesIO(body)) as container:
        stream = container.streams.video[0]
        frames = [f for f in container.decode(stream)]
    assert frames and (frames[0].width, frames[0].height) == (320, 240)  # odd size cropped to even

    # --- 3. progress notifications updated one id in place ---------------------------------------------------
    # "Recording 00:02" while recording (issue 12 #4), "Uploading recording-….webm…" after the stop, then the link
    video_calls = [c for c in notifications.calls if re.fullmatch(r"Recording \d\d:\d\d", c.summary)
                   or "recording-" in (c.summary + c.body) or c.body == video_link]
    assert video_calls and video_calls[0].summary.startswith("Recording "), [c.summary for c in notifications.calls]
    first = video_calls[0]
    assert all(c.returned_id == first.returned_id for c in video_calls), \
        [(c.returned_id, c.replaces_id, c.summary) for c in video_calls]
    assert any(c.replaces_id == first.returned_id for c in video_calls[1:]), "never replaced in place"
    assert app.proc.poll() is None

    # --- quit from the menu: the process ends cleanly --------------------------------------------------------
    xdo("mousemove", "--window", str(icon), "8", "8", "click", "3")
    time.sleep(0.8)
    xdo("key", "Up", "Return")  # the last item: Quit
    assert app.proc.wait(20) == 0
    log_text = app.log()
    assert "Traceback" not in log_text, log_text[-3000:]
    # the app owned the link on the clipboard itself; quitting handed it to xclip, so it is still there to paste
    assert clipboard() == video_link
