"""Clipboard under Xvfb: what XclipClipboard copies is what another X client (xclip -o) reads back."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image

from tray_platform.linux.clipboard import XclipClipboard, create

pytestmark = pytest.mark.e2e


def read(target: str) -> bytes:
    return subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", target], capture_output=True,
                          timeout=5).stdout


def test_text_round_trip(desktop_display):
    cb = create()
    assert isinstance(cb, XclipClipboard)
    cb.copy_text("http://127.0.0.1:8765/s/ünï-💡")
    assert read("UTF8_STRING").decode() == "http://127.0.0.1:8765/s/ünï-💡"


def test_png_round_trip_and_targets(desktop_display):
    img = Image.new("RGBA", (40, 30), (10, 200, 30, 255))
    img.putpixel((5, 5), (255, 0, 0, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    XclipClipboard().copy_image_png(buf.getvalue())
    assert b"image/png" in read("TARGETS")
    with Image.open(io.BytesIO(read("image/png"))) as back:
        assert back.size == (40, 30) and back.convert("RGBA").getpixel((5, 5)) == (255, 0, 0, 255)


def test_copy_returns_promptly_while_xclip_keeps_serving(desktop_display):
    """The forked xclip server must not keep our call waiting (pipes not inherited)."""
    cb = XclipClipboard(timeout=3.0)
    for i in range(3):
        cb.copy_text(f"v{i}")  # would raise TimeoutExpired if run() waited for the server child
    assert read("UTF8_STRING") == b"v2"
