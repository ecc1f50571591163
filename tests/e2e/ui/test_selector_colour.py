"""The selector's colour picker (issue 19 item 4): C copies the hex colour of the pixel under the cursor (the
magnifier's centre) to the real X clipboard (xclip adapter), with a short confirmation on the overlay."""

from __future__ import annotations

import subprocess

import pytest

from tests.procutil import need_tool
from tray.ui.selector import RegionSelector

from .conftest import fake_desktop, grab_root, pump, screenshot, xdotool

pytestmark = pytest.mark.e2e


def clipboard_text() -> str:
    return subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True, text=True,
                          timeout=10).stdout


def test_c_copies_the_colour_under_the_cursor(tk_root):
    need_tool("xclip")
    from tray_platform.linux.clipboard import XclipClipboard

    frozen = fake_desktop()
    done = []
    sel = RegionSelector(tk_root, frozen, (0, 0), done.append, clipboard=XclipClipboard())
    assert pump(tk_root, lambda: sel.window.winfo_viewable(), timeout=5)
    try:
        for (x, y), expected in [((800, 300), "#e53935"), ((1050, 300), "#43a047"), ((1015, 465), "#000000")]:
            r, g, b = frozen.getpixel((x, y))
            assert expected == f"#{r:02x}{g:02x}{b:02x}"  # the known pixel of the fake desktop
            xdotool(tk_root, "mousemove", str(x), str(y))
            xdotool(tk_root, "key", "c")
            assert pump(tk_root, lambda: clipboard_text() == expected, timeout=5), clipboard_text()
            pump(tk_root, timeout=0.1)
            assert sel.canvas.itemcget(sel._hint, "text") == f"Copied {expected}"
            assert sel.canvas.itemcget(sel._hint, "state") == "normal"
            # the magnifier's centre, as drawn on screen, is that colour too (8x zoom: a 8x8 cell)
            mx0, my0, _, _ = sel.canvas.coords(sel._mag_centre)
            assert grab_root().getpixel((int(mx0) + 4, int(my0) + 4)) == (r, g, b)
        screenshot("selector-colour-copied")
        assert pump(tk_root, lambda: sel.canvas.itemcget(sel._hint, "text") != "Copied #000000", timeout=3)
        assert not done  # picking a colour neither confirms nor cancels the selection
    finally:
        sel.cancel()
    assert done == [None]


def test_without_a_clipboard_the_colour_is_shown_not_copied(tk_root):
    need_tool("xclip")
    frozen = fake_desktop()
    sel = RegionSelector(tk_root, frozen, (0, 0), lambda region: None)
    assert pump(tk_root, lambda: sel.window.winfo_viewable(), timeout=5)
    try:
        xdotool(tk_root, "mousemove", "800", "300", "key", "c")
        pump(tk_root, timeout=0.1)
        assert sel.canvas.itemcget(sel._hint, "text") == "#e53935 (no clipboard to copy it to)"
    finally:
        sel.cancel()
