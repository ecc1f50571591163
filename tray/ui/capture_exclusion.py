"""Keeping one of Snaplark's own windows out of screen captures, where the OS can.

* Windows 10 2004+: ``SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE)``; the user still sees the window
  and every capture API (BitBlt, which mss uses, DXGI duplication, Graphics Capture) leaves it out.
* X11: no such thing (any client reads the root window's pixels), so the answer is False.
* macOS: also False. ``NSWindow.sharingType = .none`` is ignored by ScreenCaptureKit since macOS 15.
When the answer is False the caller hides the window for the length of the recording, like ShareX does; the tray
icon and the hotkeys still control the recording.

OS libraries (ctypes' ``WinDLL``) are imported only inside the Windows branch. Tk thread only (it reads Tk window
ids).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger(__name__)

WDA_EXCLUDEFROMCAPTURE = 0x11
GA_ROOT = 2


def exclude_from_capture(window: Any) -> bool:
    """Ask the OS to leave the Tk toplevel ``window`` out of screen captures. True only when the OS agreed."""
    if sys.platform != "win32":
        return False
    try:  # pragma: no cover - Windows only
        import ctypes
        from ctypes import wintypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)
        user32.GetAncestor.argtypes = [wintypes.HWND, wintypes.UINT]
        user32.GetAncestor.restype = wintypes.HWND
        user32.SetWindowDisplayAffinity.argtypes = [wintypes.HWND, wintypes.DWORD]
        user32.SetWindowDisplayAffinity.restype = wintypes.BOOL
        window.update_idletasks()  # the HWND exists once Tk has made the window
        hwnd = user32.GetAncestor(window.winfo_id(), GA_ROOT)
        if hwnd and user32.SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE):
            return True
        log.info("this Windows version cannot exclude a window from captures (error %d)", ctypes.get_last_error())
    except Exception:  # noqa: BLE001 - hiding the window is the fallback
        log.exception("could not exclude a window from captures")
    return False
