"""The small always-on-top control shown while recording: elapsed time, pause/resume, stop.

Placed next to (never inside) the recorded region so it does not appear in the video. Tk thread only.
"""

from __future__ import annotations

from typing import Any, Callable

from tray_platform.base import Region

from tray.ui.tray_icon import format_elapsed

WIDTH, HEIGHT = 210, 34


def place_outside(region: Region, screen: Region, width: int = WIDTH, height: int = HEIGHT) -> tuple[int, int]:
    """Top-left corner for the control: below the region, else above, else right, else left, else the screen
    corner farthest from it (a full-screen recording then contains it; nothing better exists)."""
    cx = min(max(region.left, screen.left), screen.right - width)
    candidates = [
        (cx, region.bottom + 4),
        (cx, region.top - height - 4),
        (region.right + 4, min(max(region.top, screen.top), screen.bottom - height)),
        (region.left - width - 4, min(max(region.top, screen.top), screen.bottom - height)),
    ]
    for x, y in candidates:
        if screen.left <= x and x + width <= screen.right and screen.top <= y and y + height <= screen.bottom:
            return x, y
    return screen.right - width, screen.bottom - height


class RecordingControl:
    def __init__(self, root: Any, region: Region, screen: Region, *, on_stop: Callable[[], None],
                 on_toggle_pause: Callable[[], None], elapsed: Callable[[], float], paused: Callable[[], bool]):
        import tkinter as tk

        self._elapsed, self._paused = elapsed, paused
        self.window = win = tk.Toplevel(root)
        win.overrideredirect(True)
        try:
            win.attributes("-topmost", True)
        except tk.TclError:  # pragma: no cover
            pass
        x, y = place_outside(region, screen)
        win.geometry(f"{WIDTH}x{HEIGHT}+{x}+{y}")
        win.configure(background="#202020")
        self.dot = tk.Label(win, text="\u25cf", fg="#e53935", bg="#202020", font=("DejaVu Sans", -16))
        self.dot.pack(side="left", padx=(8, 2))
        self.label = tk.Label(win, text="00:00", fg="white", bg="#202020", font=("DejaVu Sans Mono", -14))
        self.label.pack(side="left", padx=4)
        self.stop_button = tk.Button(win, text="Stop", command=on_stop, relief="flat", bg="#e53935", fg="white")
        self.stop_button.pack(side="right", padx=4, pady=3)
        self.pause_button = tk.Button(win, text="Pause", command=on_toggle_pause, relief="flat")
        self.pause_button.pack(side="right", padx=2, pady=3)
        self._job: Any = None
        self.geometry = (x, y, WIDTH, HEIGHT)
        self._tick()

    def _tick(self) -> None:
        paused = self._paused()
        self.label.configure(text=format_elapsed(self._elapsed()) + (" \u23f8" if paused else ""))
        self.pause_button.configure(text="Resume" if paused else "Pause")
        self._job = self.window.after(250, self._tick)

    def close(self) -> None:
        if self._job is not None:
            self.window.after_cancel(self._job)
            self._job = None
        self.window.destroy()
