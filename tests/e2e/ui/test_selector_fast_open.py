"""Hotkey -> overlay, made cheaper (issue 21 goal 4), with the same behaviour: the frozen screens come from one
capture adapter kept open between selections (tray.capture.screenshot.KeptCapture), never a stale picture; the
selector reads the window list after its first paint (or at once when W or a click needs it). Real Xvfb, real mss,
real python-xlib window list; timing is benchmarks/hotkey_latency.py's business, not these tests'."""

from __future__ import annotations

import pytest

from tray_platform.base import Region

from .conftest import pump, xdotool

pytestmark = pytest.mark.e2e

RED, BLUE, GREEN = (0xd0, 0x10, 0x10), (0x10, 0x30, 0xd0), (0x10, 0xa0, 0x30)


def _screen() -> Region:
    from tray.capture.backends import default_display_info

    return default_display_info().virtual_screen()


def _patch(root, colour: tuple[int, int, int], geometry: str = "200x120+200+150", title: str | None = None):
    """A window of one colour (overrideredirect unless ``title``: then a titled top-level the window list shows)."""
    import tkinter as tk

    top = tk.Toplevel(root, background="#%02x%02x%02x" % colour)
    if title is None:
        top.overrideredirect(True)
    else:
        top.title(title)
    top.geometry(geometry)
    assert pump(root, lambda: top.winfo_viewable(), timeout=5)
    pump(root, timeout=0.15)
    return top


def _recolour(root, top, colour: tuple[int, int, int]) -> None:
    top.configure(background="#%02x%02x%02x" % colour)
    pump(root, timeout=0.15)


class _Droppable:
    """The real X11 capture adapter, whose connection the test can declare dropped (its next grab fails as a
    grab on a dead X connection does), to check that the kept adapter is replaced rather than kept failing."""

    def __init__(self):
        from tray_platform.linux.capture import X11ScreenCapture

        self.real = X11ScreenCapture()
        self.dropped = False
        self.closed = False

    def grab(self, region):
        if self.dropped:
            raise OSError("X connection dropped")
        return self.real.grab(region)

    def close(self):
        self.closed = True
        self.real.close()


def test_kept_capture_grabs_the_screen_as_it_is_now_with_one_adapter(tk_root):
    from tray.capture.screenshot import KeptCapture

    top = _patch(tk_root, RED)
    kept = KeptCapture()
    try:
        screen = _screen()
        first = kept.image(screen)
        assert first.size == (screen.width, screen.height) and first.getpixel((300, 200)) == RED
        _recolour(tk_root, top, BLUE)
        second = kept.image(screen)
        assert second.getpixel((300, 200)) == BLUE  # asked afresh, not the kept segment's old pixels
        top.geometry("200x120+600+400")
        pump(tk_root, timeout=0.15)
        third = kept.image(Region(500, 300, 400, 300))  # a part of the screen, the same adapter
        assert third.size == (400, 300) and third.getpixel((150, 150)) == BLUE
        assert third.getpixel((50, 50)) != BLUE
        assert kept.opened == 1 and kept.is_open
    finally:
        kept.close()
        top.destroy()
    assert not kept.is_open


def test_kept_capture_replaces_a_failed_adapter_and_closes_when_idle(tk_root):
    from tray.capture.screenshot import KeptCapture

    top = _patch(tk_root, GREEN)
    made: list[_Droppable] = []
    now = [100.0]

    def factory():
        made.append(_Droppable())
        return made[-1]

    kept = KeptCapture(factory, idle_s=30.0, clock=lambda: now[0])
    try:
        screen = _screen()
        assert kept.image(screen).getpixel((300, 200)) == GREEN
        made[0].dropped = True
        _recolour(tk_root, top, RED)
        assert kept.image(screen).getpixel((300, 200)) == RED  # one retry on a fresh adapter
        assert kept.opened == 2 and made[0].closed and not made[1].closed
        now[0] += 29.0
        assert kept.release_if_idle() is False and kept.is_open
        now[0] += 1.0
        assert kept.release_if_idle() is True and not kept.is_open and made[1].closed
        _recolour(tk_root, top, BLUE)
        assert kept.image(screen).getpixel((300, 200)) == BLUE and kept.opened == 3
    finally:
        kept.close()
        top.destroy()


def test_kept_capture_raises_when_a_fresh_adapter_fails_too(tk_root):
    from tray.capture.screenshot import KeptCapture

    made: list[_Droppable] = []

    def factory():
        made.append(_Droppable())
        made[-1].dropped = bool(len(made) > 1)
        return made[-1]

    kept = KeptCapture(factory)
    kept.grab(_screen())
    made[0].dropped = True
    with pytest.raises(OSError, match="X connection dropped"):
        kept.grab(_screen())
    assert not kept.is_open and all(m.closed for m in made) and len(made) == 2


@pytest.fixture
def flow(tk_root):
    from tray import config
    from tray.ui.capture_flow import CaptureFlow
    from tray.ui.context import TrayContext

    ctx = TrayContext(config.Settings())
    ctx.root = tk_root
    captures = CaptureFlow(ctx, recent=None)
    yield captures
    if captures.selector is not None:
        captures.selector.cancel()
    captures.grabber.close()


def _open(tk_root, flow, got: list):
    flow.select(lambda region, frozen, screen: got.append((region, frozen)))
    sel = flow.selector
    assert sel is not None and pump(tk_root, lambda: sel.window.winfo_viewable(), timeout=5)
    return sel


def test_capture_flow_keeps_one_adapter_and_each_selection_freezes_the_new_screen(tk_root, flow):
    top = _patch(tk_root, RED)
    got: list = []
    try:
        sel = _open(tk_root, flow, got)
        assert sel.frozen.getpixel((300, 200)) == RED
        sel.cancel()
        _recolour(tk_root, top, BLUE)
        sel = _open(tk_root, flow, got)
        assert sel.frozen.getpixel((300, 200)) == BLUE
        assert flow.grabber.opened == 1
        xdotool(tk_root, "mousemove", "250", "170", "mousedown", "1", "mousemove", "300", "200", "mousemove",
                "350", "230", "mouseup", "1", "key", "Return")
        assert pump(tk_root, lambda: got, timeout=5)
        region, frozen = got[0]
        assert region == Region(250, 170, 100, 60) and frozen.getpixel((300, 200)) == BLUE
        # unused for grabber.idle_s: the flow's timer closes the kept adapter (an idle app keeps no segment)
        flow.grabber.idle_s = 0.05
        flow.select(lambda *a: None)
        flow.selector.cancel()
        assert pump(tk_root, lambda: not flow.grabber.is_open, timeout=5)
        _recolour(tk_root, top, GREEN)
        sel = _open(tk_root, flow, got)
        assert sel.frozen.getpixel((300, 200)) == GREEN and flow.grabber.opened == 2
    finally:
        top.destroy()


def test_window_list_is_read_after_the_first_paint_and_the_outline_follows(tk_root, flow):
    """The cursor rests on a window when the hotkey comes: the first frame is the frozen screen without the outline
    (and without the bright copy as a Tk image); the list is read right after that frame, then the outline shows."""
    top = _patch(tk_root, BLUE, "240x160+300+220", title="snaplark fast-open blue")
    xdotool(tk_root, "mousemove", "400", "300")
    reads: list[bool] = []
    real = flow.window_list
    flow.window_list = lambda: (reads.append(True), real())[1]
    at_first_paint: list[tuple] = []
    try:
        flow.select(lambda *a: None)
        sel = flow.selector
        assert reads == []  # the overlay is built and mapped before the window list is read

        def first_paint(_event):
            if not at_first_paint:  # the idle pass after the first Expose: the frame the user sees first
                sel.window.after_idle(lambda: at_first_paint.append(
                    (list(reads), sel.canvas.itemcget(sel._window_outline, "state"), sel._bright_photo is None)))

        sel.canvas.bind("<Expose>", first_paint, add="+")
        assert pump(tk_root, lambda: at_first_paint and sel._first_painted, timeout=5)
        assert at_first_paint[0] == ([], "hidden", True)
        assert pump(tk_root, lambda: sel.canvas.itemcget(sel._window_outline, "state") == "normal", timeout=5)
        assert reads == [True]
        assert sel.canvas.coords(sel._window_outline) == [301.0, 221.0, 539.0, 379.0]
        assert "click a window or W" in sel.canvas.itemcget(sel._hint, "text")
    finally:
        top.destroy()


def test_w_before_the_first_paint_reads_the_list_at_once(tk_root, flow):
    top = _patch(tk_root, RED, "300x200+100+100", title="snaplark fast-open red")
    xdotool(tk_root, "mousemove", "200", "150")
    got: list = []
    reads: list[bool] = []
    real = flow.window_list
    flow.window_list = lambda: (reads.append(True), real())[1]
    try:
        flow.select(lambda region, frozen, screen: got.append(region))
        assert reads == []
        assert flow.selector.take_window() is True  # no event processed yet: the list is read now
        assert reads == [True] and got == [Region(100, 100, 300, 200)]
    finally:
        top.destroy()


def test_a_failing_window_list_leaves_region_selection_working_and_w_says_why(tk_root, flow):
    def broken():
        raise RuntimeError("no window manager answer")

    flow.window_list = broken
    got: list = []
    sel = _open(tk_root, flow, got)
    assert pump(tk_root, lambda: sel._first_painted, timeout=5)
    assert sel.take_window() is False
    assert pump(tk_root, lambda: sel.canvas.itemcget(sel._hint, "text") ==
                "Window list unavailable: no window manager answer", timeout=5)
    xdotool(tk_root, "mousemove", "50", "60", "mousedown", "1", "mousemove", "100", "100", "mousemove", "150",
            "130", "mouseup", "1", "key", "Return")
    assert pump(tk_root, lambda: got, timeout=5)
    assert got[0][0] == Region(50, 60, 100, 70)
