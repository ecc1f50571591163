from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from fakes_platform import FakeRunner
from tray_platform.base import Clipboard
from tray_platform.linux.clipboard import ClipboardError, XclipClipboard
from tray_platform.macos.clipboard import MacClipboard
from tray_platform.windows.clipboard import png_to_dib


def png_bytes(size=(3, 2), mode="RGBA"):
    buf = io.BytesIO()
    Image.new(mode, size, (255, 0, 0, 128) if mode == "RGBA" else (255, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


class ClipboardRunner(FakeRunner):
    """xclip -i stores, xclip -o reads back (after ``lag`` reads, as a forked xclip server that is late)."""

    def __init__(self, lag=0):
        super().__init__()
        self.held = b""
        self.lag = lag

    def __call__(self, argv, **kwargs):
        super().__call__(argv, **kwargs)
        if "-i" in argv:
            self.pending = kwargs["input"]
            return type("Completed", (), {"returncode": 0, "stdout": b""})()
        if self.lag:
            self.lag -= 1
        else:
            self.held = self.pending
        return type("Completed", (), {"returncode": 0, "stdout": self.held})()


def test_xclip_commands_and_no_pipes_held():
    runner = ClipboardRunner()
    cb = XclipClipboard(runner=runner)
    assert isinstance(cb, Clipboard)
    cb.copy_text("héllo")
    cb.copy_image_png(png_bytes())
    copies = [c for c in runner.calls if "-i" in c[0]]
    (text_argv, text_kw), (img_argv, img_kw) = copies
    assert text_argv == ["xclip", "-selection", "clipboard", "-i", "-t", "UTF8_STRING"]
    assert text_kw["input"] == "héllo".encode()
    assert img_argv[-2:] == ["-t", "image/png"]
    import subprocess

    for kw in (text_kw, img_kw):  # the forked xclip server must not inherit our pipes
        assert kw["stdout"] is subprocess.DEVNULL and kw["stderr"] is subprocess.DEVNULL and kw["timeout"] > 0


def test_a_copy_returns_only_once_the_clipboard_holds_it():
    runner = ClipboardRunner(lag=3)  # the forked server takes the selection three reads late
    XclipClipboard(runner=runner).copy_text("v2")
    reads = [c for c in runner.calls if "-o" in c[0]]
    assert len(reads) == 4 and runner.held == b"v2"
    assert reads[0][0] == ["xclip", "-selection", "clipboard", "-o", "-t", "UTF8_STRING"]


def test_xclip_failure_raises_clear_error():
    with pytest.raises(ClipboardError, match="DISPLAY"):
        XclipClipboard(runner=FakeRunner(returncode=1)).copy_text("x")
    with pytest.raises(ValueError):
        XclipClipboard(runner=FakeRunner()).copy_image_png(b"GIF89a")


def test_macos_pbcopy_and_png_script():
    runner = FakeRunner()
    cb = MacClipboard(runner=runner)
    cb.copy_text("link")
    argv, kw = runner.calls[0]
    assert argv == ["pbcopy"] and kw["input"] == b"link" and "UTF-8" in kw["env"]["LANG"]
    seen = {}

    def runner2(argv, **kw):
        seen["argv"] = argv
        with open(argv[-1], "rb") as fh:  # the temp file holds the PNG while osascript runs
            seen["data"] = fh.read()
        return FakeRunner()(argv, **kw)

    png = png_bytes()
    MacClipboard(runner=runner2).copy_image_png(png)
    assert seen["data"] == png and "PNGf" in " ".join(seen["argv"])
    import os

    assert not os.path.exists(seen["argv"][-1])  # cleaned up


def test_windows_dib_header_and_pixels():
    dib = png_to_dib(png_bytes((3, 2), "RGBA"))
    header_size, width, height, planes, bpp = struct.unpack_from("<IiiHH", dib)
    assert (width, abs(height), planes, bpp) == (3, 2, 1, 32) and header_size >= 40
    dib_rgb = png_to_dib(png_bytes((3, 2), "RGB"))
    assert struct.unpack_from("<IiiHH", dib_rgb)[4] == 24
