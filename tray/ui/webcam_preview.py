"""Where the webcam bubble goes, chosen by hand before a recording: during the countdown a round stand-in of the
bubble sits where the bubble will be (its corner, tray.capture.webcam_bubble), and a drag moves it anywhere inside
the region about to be recorded. When the countdown ends the stand-in goes (before the recorder starts: it is never
in the video) and the recording's bubble is composited where it was left (:attr:`BubblePreview.position`).

The stand-in is a small borderless topmost window, a disc on the countdown's dark grey (X11 gives Tk no round
windows). Esc on it cancels the countdown like Esc on the countdown itself.

Tk thread only.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from tray_platform.base import Region

from tray.ui.overlay import frameless_topmost

log = logging.getLogger(__name__)

BG = "#202020"  # the countdown's colour around the disc
DISC = "#1e88e5"


class BubblePreview:
    def __init__(self, root: Any, region: Region, spec: Any, *, on_escape: Callable[[], None]) -> None:
        import tkinter as tk

        self._region = region
        x, y, d = spec.place(region.width, region.height)
        self.diameter = d
        self.position = (x, y)  # top-left, in the region's pixels
        self._grip = (0, 0)
        self.window = win = frameless_topmost(root, background=BG)
        self.canvas = c = tk.Canvas(win, width=d, height=d, background=BG, highlightthickness=0, bd=0,
                                    cursor="fleur")
        c.pack()
        c.create_oval(1, 1, d - 1, d - 1, fill=DISC, outline="white", width=2)
        c.create_text(d // 2, d // 2, text="Webcam\ndrag me" if d >= 80 else "\u25cf", fill="white",
                      justify="center", font=("DejaVu Sans", -max(9, d // 8)))
        self._place()
        c.bind("<ButtonPress-1>", self._press)
        c.bind("<B1-Motion>", self._drag)
        c.bind("<ButtonRelease-1>", self._release)
        win.bind("<Escape>", lambda e: on_escape())
        log.info("webcam bubble preview at %s in the region (%d px)", self.position, d)

    def _place(self) -> None:
        x, y = self.position
        self.window.geometry(f"{self.diameter}x{self.diameter}+{self._region.left + x}+{self._region.top + y}")

    def _press(self, event: Any) -> None:
        self._grip = (event.x_root - self._region.left - self.position[0],
                      event.y_root - self._region.top - self.position[1])

    def _drag(self, event: Any) -> None:
        r, d = self._region, self.diameter
        x = min(max(event.x_root - r.left - self._grip[0], 0), r.width - d)
        y = min(max(event.y_root - r.top - self._grip[1], 0), r.height - d)
        if (x, y) != self.position:
            self.position = (x, y)
            self._place()

    def _release(self, event: Any) -> None:
        self._drag(event)
        log.info("webcam bubble moved to %s in the region", self.position)

    def close(self) -> None:
        import tkinter as tk

        try:
            self.window.destroy()
        except tk.TclError:
            pass
