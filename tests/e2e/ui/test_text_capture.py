"""The tray's "Copy text" (issue 19): the real selector over the frozen Xvfb screen, driven by xdotool, the real
OCR on a worker thread, the text on the real X clipboard (xclip), a short confirmation. Only the notifier (the
desktop's notification daemon) is a stand-in: it records what it was asked to show."""

from __future__ import annotations

import subprocess

import pytest

from tests import ocr_samples as S
from tests.procutil import need_tool

from .conftest import pump, xdotool

pytestmark = pytest.mark.e2e


class Notifier:
    def __init__(self):
        self.shown: list[tuple[str, str]] = []

    def notify(self, title, body, **kw):
        self.shown.append((title, body))


def clipboard_text() -> str:
    return subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True, text=True,
                          timeout=10).stdout


@pytest.fixture
def flow(tk_root):
    need_tool("xclip")
    pytest.importorskip("tesserocr")
    from tray import config
    from tray.ui.capture_flow import CaptureFlow
    from tray.ui.context import TrayContext
    from tray.ui.dispatcher import UiDispatcher
    from tray.ui.text_capture import TextCapture
    from tray_platform.linux.clipboard import XclipClipboard

    ctx = TrayContext(config.Settings())
    ctx.root = tk_root
    ctx.dispatcher = UiDispatcher(tk_root)
    ctx.dispatcher.start()
    ctx.notifier = Notifier()
    ctx.clipboard = XclipClipboard()
    captures = CaptureFlow(ctx, recent=None)
    yield TextCapture(ctx, captures), captures, ctx
    ctx.dispatcher.stop()


def test_copy_text_from_a_selected_region(tk_root, flow):
    text_capture, captures, ctx = flow
    sample = S.ACCEPTANCE[1]
    win, (x, y, w, h) = S.show_sample(tk_root, sample, 200, 150)
    ctx.clipboard.copy_text("before")
    text_capture.start()
    assert pump(tk_root, lambda: captures.selector is not None and captures.selector.window.winfo_viewable(), 5)
    xdotool(tk_root, "mousemove", str(x), str(y), "mousedown", "1", "mousemove", str(x + w // 2), str(y + h // 2),
            "mousemove", str(x + w), str(y + h), "mouseup", "1")
    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: text_capture.last_text is not None or ctx.notifier.shown, timeout=30), \
        ctx.notifier.shown
    assert S.cer(sample.text, clipboard_text()) <= 0.03, clipboard_text()
    title, body = ctx.notifier.shown[-1]
    assert title == "Text copied" and body.startswith("The quick brown fox")
    win.destroy()


def test_a_region_without_text_says_so_and_keeps_the_clipboard(tk_root, flow):
    import tkinter as tk

    text_capture, captures, ctx = flow
    win = tk.Toplevel(tk_root)
    win.overrideredirect(True)
    win.geometry("300x200+500+300")
    tk.Frame(win, background="#4a90d9", width=300, height=200).pack()
    assert pump(tk_root, lambda: win.winfo_viewable(), timeout=5)
    ctx.clipboard.copy_text("kept")
    text_capture.start()
    assert pump(tk_root, lambda: captures.selector is not None and captures.selector.window.winfo_viewable(), 5)
    xdotool(tk_root, "mousemove", "520", "320", "mousedown", "1", "mousemove", "700", "480", "mouseup", "1")
    xdotool(tk_root, "key", "Return")
    assert pump(tk_root, lambda: ctx.notifier.shown, timeout=30)
    assert ctx.notifier.shown[-1][0] == "No text found"
    assert clipboard_text() == "kept"
    win.destroy()
