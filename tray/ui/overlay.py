"""Frameless, always-on-top Tk windows: the selector, countdown, control bar, recording border, pin and webcam
stand-in all start as one of these. Threading: the Tk thread."""

from __future__ import annotations

from typing import Any


def frameless_topmost(root: Any, *, withdrawn: bool = False, **options: Any) -> Any:
    """A new override-redirect ``Toplevel`` of ``root`` (no window-manager frame, focus or placement) kept above other
    windows where the window system allows it; ``withdrawn``: not shown until the caller deiconifies it;
    ``options``: Toplevel options (background, highlightthickness, ...)."""
    import tkinter as tk

    win = tk.Toplevel(root, **options)
    if withdrawn:
        win.withdraw()
    win.overrideredirect(True)
    try:
        win.attributes("-topmost", True)
    except tk.TclError:  # pragma: no cover - some window systems refuse
        pass
    return win
