"""macOS monitor layout over mss (CoreGraphics), with the Retina backing scale per monitor.

Coordinates on macOS are *points* (CoreGraphics global display space, what Tk and the region selector use);
``Monitor.scale`` is the backing scale (device pixels per point, 2.0 on Retina). Captures are delivered at the
nominal resolution (one pixel per point: mss's default ``kCGWindowImageNominalResolution``), which keeps frame
sizes equal to the requested region and halves encoding cost on Retina. Untested on CI (Linux only).
"""

from __future__ import annotations

from typing import Any

from tray_platform.mss_backend import MssDisplayInfo
from tray_platform.base import Monitor, NoDisplayError, Region


def open_mss(**kwargs: Any):
    import mss  # lazy

    try:
        return mss.MSS(**kwargs)
    except mss.ScreenShotError as exc:
        raise NoDisplayError(f"cannot use the window server for capture: {exc}") from exc


def backing_scales(max_displays: int = 32) -> list[float]:
    """Pixels per point for each active display, in CGGetActiveDisplayList order (the order mss uses)."""
    import ctypes
    import ctypes.util

    core = ctypes.cdll.LoadLibrary(ctypes.util.find_library("CoreGraphics") or ctypes.util.find_library("Quartz"))
    core.CGDisplayCopyDisplayMode.restype = ctypes.c_void_p
    core.CGDisplayCopyDisplayMode.argtypes = [ctypes.c_uint32]
    for name in ("CGDisplayModeGetPixelWidth", "CGDisplayModeGetWidth"):
        getattr(core, name).restype = ctypes.c_size_t
        getattr(core, name).argtypes = [ctypes.c_void_p]
    core.CGDisplayModeRelease.argtypes = [ctypes.c_void_p]
    count = ctypes.c_uint32(0)
    ids = (ctypes.c_uint32 * max_displays)()
    core.CGGetActiveDisplayList(max_displays, ids, ctypes.byref(count))
    scales = []
    for i in range(count.value):
        mode = core.CGDisplayCopyDisplayMode(ids[i])
        if not mode:
            scales.append(1.0)
            continue
        try:
            points = core.CGDisplayModeGetWidth(mode)
            pixels = core.CGDisplayModeGetPixelWidth(mode)
            scales.append(pixels / points if points else 1.0)
        finally:
            core.CGDisplayModeRelease(mode)
    return scales


class MacDisplayInfo(MssDisplayInfo):
    def _open(self) -> Any:
        return open_mss()

    def monitors(self) -> list[Monitor]:
        raw = self._raw()[1:]
        try:
            scales = backing_scales()
        except OSError:
            scales = []
        return [Monitor(index=i, region=Region(m["left"], m["top"], m["width"], m["height"]),
                        scale=scales[i] if i < len(scales) else 1.0, primary=(i == 0))  # CG lists main first
                for i, m in enumerate(raw)]


def create(**kwargs: Any) -> MacDisplayInfo:
    return MacDisplayInfo(**kwargs)
