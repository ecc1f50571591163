"""A hover tooltip for a Tk widget: a borderless window under the pointer after a short delay.

Threading: Tk thread only.
"""

from __future__ import annotations

from typing import Any

DELAY_MS = 400


class Tooltip:
    def __init__(self, widget: Any, text: str, *, wraplength: int = 360):
        self.widget = widget
        self.text = text
        self._wrap = wraplength
        self._after: str | None = None
        self.window: Any = None
        widget.bind("<Enter>", self._schedule, add="+")
        widget.bind("<Leave>", self._hide, add="+")
        widget.bind("<ButtonPress>", self._hide, add="+")

    def _schedule(self, event: Any = None) -> None:
        self._cancel()
        self._after = self.widget.after(DELAY_MS, self.show)

    def _cancel(self) -> None:
        if self._after is not None:
            self.widget.after_cancel(self._after)
            self._after = None

    def show(self) -> None:
        import tkinter as tk

        self._after = None
        if self.window is not None or not self.widget.winfo_exists():
            return
        x = self.widget.winfo_rootx() + 8
        y = self.widget.winfo_rooty() + self.widget.winfo_height() + 4
        self.window = tk.Toplevel(self.widget)
        self.window.wm_overrideredirect(True)
        self.window.wm_geometry(f"+{x}+{y}")
        tk.Label(self.window, text=self.text, justify="left", wraplength=self._wrap, background="#ffffe0",
                 relief="solid", borderwidth=1, padx=6, pady=3).pack()

    def _hide(self, event: Any = None) -> None:
        self._cancel()
        if self.window is not None:
            self.window.destroy()
            self.window = None
