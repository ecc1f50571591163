"""A screenshot's uploaded file is the capture, pixel for pixel (issue 21 goal 3: the faster PNG writer must stay
lossless): a private Xvfb shows a known desktop-like picture, ``capture_shot`` grabs and encodes it
(tray.capture.png_fast), the upload engine sends it to the reference server, and the file the link names is
downloaded, decoded and compared with the grab and with the picture drawn."""

from __future__ import annotations

import io
import random

import pytest
import requests
from PIL import Image, ImageDraw

from tests.procutil import need_tool, start_xvfb, stop_process
from tests.share_links import file_of

pytestmark = pytest.mark.e2e
W, H = 640, 360


def desktop_picture() -> Image.Image:
    """Gradient wallpaper, a white 'window' with text, and a noisy 'photo' (every PNG filter and match length)."""
    rng = random.Random(21)
    image = Image.linear_gradient("L").resize((W, H)).convert("RGB")
    d = ImageDraw.Draw(image)
    d.rectangle((40, 30, 400, 250), fill=(250, 250, 250), outline=(90, 90, 90))
    for y in range(50, 240, 14):
        d.text((50, y), " ".join(rng.choice(["snaplark", "tray", "lossless", "PNG", "zlib"]) for _ in range(6)),
               fill=(20, 20, 20))
    image.paste(Image.frombytes("RGB", (180, 120), rng.randbytes(180 * 120 * 3)), (430, 200))
    return image


def show(display: str, picture: Image.Image) -> None:
    """Draw ``picture`` on the root window (ZPixmap, 32 bits per pixel BGRX on Xvfb's 24-bit visual), in bands
    small enough for the core protocol's request size."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        root = d.screen().root
        gc = root.create_gc()
        bgrx = picture.convert("RGBA").tobytes("raw", "BGRA")
        band = 40
        for y in range(0, H, band):
            rows = min(band, H - y)
            root.put_image(gc, 0, y, W, rows, X.ZPixmap, 24, 0, bgrx[y * W * 4:(y + rows) * W * 4])
        d.sync()
    finally:
        d.close()


def test_the_uploaded_screenshot_decodes_to_exactly_the_captured_pixels(server, tmp_path):
    need_tool("Xvfb")
    from tray_platform.linux.capture import X11ScreenCapture
    from tray_platform.linux.display import X11DisplayInfo

    from tray.api.client import ApiClient
    from tray.capture.screenshot import capture_shot
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    proc, display = start_xvfb(W, H)
    try:
        picture = desktop_picture()
        show(display, picture)
        shot = capture_shot(0, display_info=X11DisplayInfo(display=display),
                            capture_factory=lambda: X11ScreenCapture(display=display))
    finally:
        stop_process(proc)
    grabbed = Image.frombuffer("RGB", (shot.width, shot.height), bytes(shot.bgra), "raw", "BGRX", 0, 1)
    assert grabbed.tobytes() == picture.tobytes()  # the grab is the picture drawn

    path = tmp_path / "shot.png"
    path.write_bytes(shot.png)
    journal = UploadJournal(tmp_path / "journal.sqlite3").open()
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal, server_url=server.url)
    try:
        link = engine.upload_screenshot(path).wait(60)
    finally:
        engine.stop()
        journal.close()
    body = requests.get(file_of(link), timeout=30).content
    assert body == shot.png
    uploaded = Image.open(io.BytesIO(body))
    assert uploaded.format == "PNG" and uploaded.size == (W, H) and uploaded.mode == "RGB"
    assert uploaded.tobytes() == grabbed.tobytes()  # lossless: every pixel of the capture


def test_a_single_still_is_exactly_what_a_kept_connection_grabs():
    """``grab_once`` (one still on a connection opened for it: XGetImage, no shared segment) gives the picture drawn,
    pixel for pixel, like the kept XShm connection the selector and the recorder grab through, and closes its
    connection; ``capture_shot`` takes that road."""
    need_tool("Xvfb")
    from tray_platform.base import Region
    from tray_platform.linux.capture import X11ScreenCapture

    proc, display = start_xvfb(W, H)
    try:
        picture = desktop_picture()
        show(display, picture)
        region = Region(0, 0, W, H)
        once = X11ScreenCapture(display=display)
        width, height, bgra = once.grab_once(region)
        assert once._sct is None  # closed: nothing kept after one still
        kept = X11ScreenCapture(display=display)
        try:
            kept_grab = kept.grab(region)
        finally:
            kept.close()
    finally:
        stop_process(proc)
    assert (width, height) == (W, H) and bytes(bgra) == bytes(kept_grab[2])
    assert Image.frombuffer("RGB", (W, H), bytes(bgra), "raw", "BGRX", 0, 1).tobytes() == picture.tobytes()


def test_the_monitors_are_read_over_one_connection():
    """Each DisplayInfo call opens its own X connection (~3 ms): monitor 0's region takes one (it needs no virtual
    screen), and the selector's screen + monitors (``screen_layout``) one as well, with the same answers."""
    need_tool("Xvfb")
    from tray_platform.linux.display import X11DisplayInfo

    from tray.capture.target import resolve_target, screen_layout

    class Counted(X11DisplayInfo):
        opened = 0

        def _open(self):
            type(self).opened += 1
            return super()._open()

    proc, display = start_xvfb(W, H)
    try:
        info = Counted(display=display)
        assert resolve_target(info, monitor=0).width == W and Counted.opened == 1
        Counted.opened = 0
        screen, monitors = screen_layout(info)
        assert Counted.opened == 1
        assert (screen, monitors) == (info.virtual_screen(), info.monitors())
    finally:
        stop_process(proc)
