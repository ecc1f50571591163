"""Keyboard focus for our frameless (overrideredirect) overlays: the selector and the countdown.

Such windows get no focus from the window manager, so they take it and, for global keys like Esc, a global grab.
The grab fails while the window is not yet viewable or another client still holds one (the hotkey that opened us,
the selector that just closed): retry every 50 ms a few times, then say so and, if asked, fall back to a grab of
our own application. Threading: the Tk thread.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger(__name__)

RETRY_MS = 50


def take_focus(window: Any, widget: Any, *, grab: bool, attempts: int, wanted: Callable[[], bool], what: str,
               local_grab_fallback: bool = False) -> None:
    """Focus ``widget`` in ``window`` (and grab the keyboard globally when ``grab``) while ``wanted()``."""
    import tkinter as tk

    if not wanted():
        return
    try:
        window.focus_force()
        widget.focus_set()
        if grab:
            window.grab_set_global()
    except tk.TclError as exc:
        if attempts > 0:
            window.after(RETRY_MS, lambda: take_focus(window, widget, grab=grab, attempts=attempts - 1,
                                                      wanted=wanted, what=what,
                                                      local_grab_fallback=local_grab_fallback))
            return
        log.warning("%s could not grab the keyboard (%s); keys work while it has focus", what, exc)
        if local_grab_fallback:
            try:
                window.grab_set()
            except tk.TclError:
                pass
