"""A GIF recorded from the tray (``capture.format = "gif"``), the whole app as a user drives it (the ``desktop``
fixture of test_desktop_app.py: Xvfb, trayer, D-Bus + keyring, a recording notification service, the embedded
server, ``python -m tray``).

Ctrl+Alt+R (xdotool) -> selector -> drag -> Return -> the tray says the GIF limit -> something moves -> Ctrl+Alt+Q
-> the clipboard holds the image's share link, whose file is a GIF: it decodes with Pillow, has the size recorded,
the frames and length the app logged, shows the screen's pixels, is byte for byte the local GIF; the WebM spool is
gone and nothing was streamed as a video. Screenshots: test-artifacts/app/gif-*.png.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageChops, ImageSequence, ImageStat

from tests.e2e.test_desktop_app import (  # noqa: F401 - `desktop`: the running tray app
    clipboard,
    desktop,
    record_region,
    snap,
    xdo,
)
from tests.procutil import wait_until
from tests.share_links import file_of, new_link

pytestmark = pytest.mark.e2e


@pytest.fixture
def desktop_capture() -> dict:
    return {"format": "gif"}


def test_tray_hotkey_records_a_gif_uploaded_as_an_image_with_its_link_on_the_clipboard(desktop):
    app, notifications, tmp_path = desktop
    background = Image.radial_gradient("L").resize((1280, 720)).convert("RGB")  # the fixture's root background
    mark = len(app.log())
    xdo("key", "ctrl+alt+r")
    rec = record_region(app, mark, (500, 200), (700, 300), (821, 441))
    left, top, width, height = (int(v) for v in rec.groups()[:4])
    spool = Path(rec[5])
    assert "Recording a GIF: it stops by itself at 60 s" in app.log()[mark:]
    told = wait_until(lambda: [c for c in notifications.calls if c.summary == "GIF recording"], 10,
                      "the GIF limit told in a notification")
    assert "60 s" in told[0].body, told[0].body
    for i in range(8):  # something moves in the region: the pointer (drawn into recordings by default)
        xdo("mousemove", str(520 + 30 * i), str(220 + 20 * i))
        time.sleep(0.25)
    snap("gif-01-recording.png")
    before = clipboard()  # (an earlier test's link may still be there)
    xdo("key", "ctrl+alt+q")
    link = new_link(clipboard, before, "/s/", 60, "the GIF's share link on the clipboard")
    url = file_of(link)
    assert url.endswith(".gif"), (link, url)
    response = requests.get(url, timeout=20)
    assert response.headers["Content-Type"] == "image/gif"
    made = re.search(r"GIF (\d+)x(\d+), (\d+) frames, ([\d.]+) s, \d+ KiB: (\S+\.gif)", app.log()[mark:])
    assert made, app.log()[-3000:]
    local = Path(made[5])
    assert local == spool.with_suffix(".gif") and response.content == local.read_bytes()
    assert not spool.exists(), "the WebM spool was left behind"
    assert not re.search(r"Uploading recording-|/v/", "\n".join(c.summary + c.body for c in notifications.calls))
    from tray.upload.history import UploadHistory
    from tray.upload.journal import UploadJournal

    with UploadJournal(tmp_path / "data" / "uploads.sqlite3") as journal:  # the app's: History's one row, a GIF
        rows = [r for r in UploadHistory(journal).catalog() if r.local_path == str(local)]
        assert [(r.kind, r.state, r.url) for r in rows] == [("gif", "completed", link)], rows

    gif = Image.open(io.BytesIO(response.content))
    assert gif.format == "GIF" and gif.size == (width - width % 2, height - height % 2) == (int(made[1]),
                                                                                             int(made[2]))
    frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(gif)]
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert len(frames) == int(made[3]) >= 6  # the pointer moved 8 times
    assert len({frame.tobytes() for frame in frames}) >= 6
    assert abs(sum(durations) - float(made[4]) * 1000) <= 20, (sum(durations), made[4])
    assert 1500 <= sum(durations) <= 60_000
    # the screen's pixels: the recorded part of the background (256 greys fit the palette) and the pointer
    expected = background.crop((left, top, left + gif.size[0], top + gif.size[1]))
    diff = ImageChops.difference(frames[-1], expected).convert("L")
    mean = ImageStat.Stat(diff).mean[0]
    assert mean < 3, f"the GIF's last frame differs from the screen by {mean:.1f} on average"
    changed = diff.point(lambda v: 255 if v > 40 else 0).getbbox()
    assert changed and changed[2] - changed[0] < 40, f"more than the pointer differs: {changed}"
    frames[-1].save(snap("gif-02-last-frame.png"))
    print(f"GIF from the tray: {made[1]}x{made[2]}, {made[3]} frames, {made[4]} s, {len(response.content)} bytes")
