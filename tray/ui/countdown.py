"""The 3-2-1 before a recording starts (``capture.countdown`` seconds).

Big digits in a dark square centred on the region about to be recorded, with a one-line hint. Esc (or
:meth:`CountdownOverlay.cancel`, e.g. from the stop hotkey or the tray menu) cancels: ``on_cancel`` runs and
nothing has been recorded, because the caller starts the recorder only in ``on_done``. The overlay is never in the
video: it is destroyed, the X server has processed that (a round trip), and ``settle_ms`` have passed for the
windows it covered to repaint before ``on_done`` runs.

While it counts, the overlay holds a global keyboard/pointer grab (like the region selector), so Esc reaches it
without window-manager focus (it is override-redirect). ``focus=False`` (a delayed screenshot: the user sets the
screen up meanwhile, a menu open, the pointer over something) takes neither focus nor grab: Esc does not reach it.

Tk thread only.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from tray_platform.base import Region

from tray.ui.focus import take_focus
from tray.ui.overlay import frameless_topmost

log = logging.getLogger(__name__)

BG = "#202020"
DIGIT_FONT = ("DejaVu Sans", -120, "bold")
HINT_FONT = ("DejaVu Sans", -13)
HINT = "Esc to cancel"


class CountdownOverlay:
    def __init__(self, root: Any, region: Region, screen: Region, seconds: int, *, on_done: Callable[[], None],
                 on_cancel: Callable[[], None], hint: str = HINT, tick_ms: int = 1000, settle_ms: int = 150,
                 grab: bool = True, focus: bool = True):
        import tkinter as tk
        import tkinter.font as tkfont

        if seconds < 1:
            raise ValueError("a countdown needs at least one second")
        self.root = root
        self.remaining = seconds
        self._on_done, self._on_cancel = on_done, on_cancel
        self._tick_ms, self._settle_ms = tick_ms, settle_ms
        self.active = True  # counting (the overlay is shown)
        self._settling: Any = None  # counted down; on_done is due after settle_ms
        digit_font = tkfont.Font(root=root, family=DIGIT_FONT[0], size=DIGIT_FONT[1], weight=DIGIT_FONT[2])
        hint_font = tkfont.Font(root=root, family=HINT_FONT[0], size=HINT_FONT[1])
        pad = 24
        digit_h = digit_font.metrics("linespace")
        hint_h = hint_font.metrics("linespace")
        width = max(digit_font.measure(str(seconds)), hint_font.measure(hint)) + 2 * pad
        height = digit_h + hint_h + pad
        width = height = max(width, height)  # a square
        x = region.left + (region.width - width) // 2
        y = region.top + (region.height - height) // 2
        x = min(max(x, screen.left), screen.right - width)
        y = min(max(y, screen.top), screen.bottom - height)

        self.window = win = frameless_topmost(root, background=BG)
        win.geometry(f"{width}x{height}+{x}+{y}")
        self.geometry = (x, y, width, height)
        self.canvas = tk.Canvas(win, width=width, height=height, background=BG, highlightthickness=0, bd=0)
        self.canvas.place(x=0, y=0)
        top = (height - digit_h - hint_h) // 2
        self._digit = self.canvas.create_text(width // 2, top + digit_h // 2, text=str(seconds), fill="white",
                                              font=digit_font)
        self.canvas.create_text(width // 2, top + digit_h + hint_h // 2, text=hint, fill="#bdbdbd", font=hint_font)
        self._fonts = (digit_font, hint_font)
        win.bind("<Escape>", lambda e: self.cancel())
        log.info("countdown %d at %s", seconds, self.geometry)
        self._job: Any = win.after(tick_ms, self._step)
        if focus:
            self._take_focus(grab, attempts=20)

    @property
    def digit(self) -> str:
        return self.canvas.itemcget(self._digit, "text")

    def _step(self) -> None:
        self._job = None
        self.remaining -= 1
        if self.remaining <= 0:
            self._close()
            try:
                self.root.winfo_pointerxy()  # a round trip: the X server has removed the overlay
            except Exception:  # noqa: BLE001
                pass
            log.info("countdown finished")
            self._settling = self.root.after(self._settle_ms, self._done)
            return
        self.canvas.itemconfigure(self._digit, text=str(self.remaining))
        log.info("countdown %d", self.remaining)
        self._job = self.window.after(self._tick_ms, self._step)

    def _done(self) -> None:
        self._settling = None
        self._on_done()

    def cancel(self) -> None:
        """Stop counting and call ``on_cancel`` instead of ``on_done`` (once; nothing happens once ``on_done``
        has run)."""
        if self._settling is not None:
            self.root.after_cancel(self._settling)
            self._settling = None
        elif not self.active:
            return
        else:
            self._close()
        log.info("countdown cancelled")
        self._on_cancel()

    def _close(self) -> None:
        self.active = False
        import tkinter as tk

        if self._job is not None:
            try:
                self.window.after_cancel(self._job)
            except tk.TclError:
                pass
            self._job = None
        try:
            self.window.grab_release()
        except tk.TclError:
            pass
        self.window.destroy()
        self.root.update_idletasks()

    def _take_focus(self, grab: bool, attempts: int) -> None:
        take_focus(self.window, self.canvas, grab=grab, attempts=attempts, wanted=lambda: self.active,
                   what="countdown")
