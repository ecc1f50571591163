"""Composition root: decides what runs and builds it.

The services (server connection, upload stack) live in :mod:`tray.services`; this module builds them for the tray
app and hands them to the UI controller (:class:`tray.ui.desktop.DesktopApp`). It imports OS libraries (Tk,
pystray, pynput, D-Bus) only inside :func:`run_tray`, so ``import tray.app`` works with no display.
"""

from __future__ import annotations

from typing import Any

def run_tray(args: Any) -> int:
    """The tray app: Tk main loop on this thread, tray icon and hotkeys on their own threads."""
    from tray.ui.desktop import DesktopApp  # imports Tk, pystray, pynput lazily

    return DesktopApp.from_args(args).run()
