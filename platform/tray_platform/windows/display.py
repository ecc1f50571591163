"""Windows monitor layout over mss (GDI). mss makes the process per-monitor DPI aware
(``SetProcessDpiAwareness(2)``), so every coordinate here is in physical pixels; ``Monitor.scale`` is the monitor's
DPI / 96 from ``GetDpiForMonitor``. Untested on CI (Linux only)."""

from __future__ import annotations

from typing import Any

from tray_platform.mss_backend import MssDisplayInfo
from tray_platform.base import Monitor, NoDisplayError, Region


def open_mss(**kwargs: Any):
    import mss  # lazy

    try:
        return mss.MSS(**kwargs)
    except mss.ScreenShotError as exc:
        raise NoDisplayError(f"cannot capture the desktop: {exc}") from exc


def monitor_scale(x: int, y: int) -> float:
    """DPI scale of the monitor containing the physical point (x, y); 1.0 when the API is missing (< Win 8.1)."""
    import ctypes
    from ctypes import wintypes

    try:
        user32, shcore = ctypes.windll.user32, ctypes.windll.shcore
    except (AttributeError, OSError):
        return 1.0
    user32.MonitorFromPoint.restype = wintypes.HMONITOR
    user32.MonitorFromPoint.argtypes = [wintypes.POINT, wintypes.DWORD]
    hmon = user32.MonitorFromPoint(wintypes.POINT(x, y), 2)  # MONITOR_DEFAULTTONEAREST
    dpi_x, dpi_y = wintypes.UINT(), wintypes.UINT()
    if shcore.GetDpiForMonitor(hmon, 0, ctypes.byref(dpi_x), ctypes.byref(dpi_y)) != 0:  # MDT_EFFECTIVE_DPI
        return 1.0
    return dpi_x.value / 96.0


class WindowsDisplayInfo(MssDisplayInfo):
    def _open(self) -> Any:
        return open_mss()

    def monitors(self) -> list[Monitor]:
        out = []
        for i, m in enumerate(self._raw()[1:]):
            region = Region(m["left"], m["top"], m["width"], m["height"])
            out.append(Monitor(index=i, region=region, scale=monitor_scale(m["left"] + 1, m["top"] + 1),
                               primary=bool(m.get("is_primary", region.left == 0 and region.top == 0))))
        return out


def create(**kwargs: Any) -> WindowsDisplayInfo:
    return WindowsDisplayInfo(**kwargs)
