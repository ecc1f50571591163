"""A real notification daemon (dunst) on the activation-free bus: the progress bar is drawn and updated in place,
and the final notification replaces it. Screenshot kept in test-artifacts/desktop/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from desktop_helpers import require_tools, wait_until
from tray.ui.notifications import ProgressNotifier
from tray.upload.events import UploadProgress
from tray.upload.progress import ProgressSnapshot
from tray.upload.state import UploadState
from tray_platform.linux.notify import DBusNotifier

pytestmark = pytest.mark.e2e

DUNSTRC = """[global]
    font = DejaVu Sans 10
    geometry = "360x5-20+40"
    width = 360
    origin = top-right
    offset = 20x40
    progress_bar = true
    progress_bar_height = 12
    progress_bar_min_width = 200
    progress_bar_max_width = 340
    frame_width = 2
    frame_color = "#2563eb"
    padding = 10
    horizontal_padding = 10
    show_indicators = no
[urgency_low]
    background = "#ffffff"
    foreground = "#111111"
    highlight = "#2563eb"
    timeout = 0
[urgency_normal]
    background = "#ffffff"
    foreground = "#111111"
    highlight = "#2563eb"
    timeout = 0
[urgency_critical]
    background = "#fff1f2"
    foreground = "#111111"
    frame_color = "#e11d48"
    timeout = 0
"""


def _bus_owner_exists() -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection("SESSION") as conn:
        reply = conn.send_and_get_reply(message_bus.NameHasOwner("org.freedesktop.Notifications"), timeout=2)
        return bool(reply.body[0])


@pytest.fixture
def dunst(notification_bus, desktop_display, tmp_path):
    require_tools("dunst", "import")
    rc = tmp_path / "dunstrc"
    rc.write_text(DUNSTRC)
    proc = subprocess.Popen(["dunst", "-config", str(rc)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _bus_owner_exists() or proc.poll() is not None, 10, what="dunst on the bus")
        if proc.poll() is not None:
            pytest.fail("dunst exited")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def grab(path) -> Image.Image:
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=20)
    return Image.open(path).convert("RGB")


def blue_pixels(img: Image.Image) -> int:
    region = img.crop((img.width - 420, 0, img.width, 200))
    return sum(1 for r, g, b in region.getdata() if b > 200 and r < 80 and 80 < g < 130)


def displayed_count() -> int:
    out = subprocess.run(["dunstctl", "count", "displayed"], capture_output=True, text=True, timeout=5)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


def test_dunst_draws_progress_bar_updated_in_place(dunst, artifacts_dir):
    require_tools("dunstctl")
    notifier = DBusNotifier().open()
    try:
        clock = [0.0]
        p = ProgressNotifier(notifier, lambda: clock[0], copy_link=lambda u: None)

        def send(sent: int) -> None:
            p(UploadProgress(None, ProgressSnapshot(upload_id=None, kind="video", state=UploadState.UPLOADING,
                                                    bytes_sent=sent, bytes_total=10_000_000, rate=1_500_000,
                                                    path=Path("recording-0612.webm"))))
            clock[0] += 1

        send(2_000_000)
        first = p.notification_id()
        wait_until(lambda: displayed_count() == 1, 5, what="dunst showing the notification")
        at20 = wait_until(lambda: blue_pixels(grab(artifacts_dir / "notification-20.png")), 5, what="drawn")
        send(6_500_000)
        assert p.notification_id() == first  # dunst returned the same id: replaced, not stacked

        def bar_grown():
            img = grab(artifacts_dir / "notification-progress.png")
            return blue_pixels(img) - at20 > 800 and img  # 45% more of a ~340x12 px bar turned blue

        img = wait_until(bar_grown, 10, interval=0.3, what="dunst progress bar grown from 20% to 65%")
        img.crop((img.width - 420, 0, img.width, 200)).save(artifacts_dir / "notification-progress-crop.png")
        assert displayed_count() == 1  # updated in place: still one notification on screen

        p(UploadProgress(None, ProgressSnapshot(upload_id=None, kind="video", state=UploadState.COMPLETED,
                                                url="http://127.0.0.1:8765/v/abc")))
        assert p.notification_id() is None  # the upload's track is closed
        wait_until(lambda: displayed_count() == 1, 5, what="final notification")
        final = grab(artifacts_dir / "notification-final.png")
        final.crop((final.width - 420, 0, final.width, 200)).save(artifacts_dir / "notification-final-crop.png")
    finally:
        notifier.close_connection()
