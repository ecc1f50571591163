"""Windows screen capture over mss (GDI BitBlt) in physical pixels (mss sets per-monitor DPI awareness before the
first call). The cursor is not drawn (mss cannot on Windows). Untested on CI (Linux only)."""

from __future__ import annotations

from typing import Any

from tray_platform.base import Region
from tray_platform.windows.display import open_mss


class WindowsScreenCapture:
    """Thread-safety: use from one thread only (GDI device contexts are per thread)."""

    def __init__(self, *, with_cursor: bool = False):
        self.with_cursor = False  # not supported by mss on Windows
        self._sct = None

    def grab(self, region: Region) -> tuple[int, int, bytearray]:
        if self._sct is None:
            self._sct = open_mss()
        shot = self._sct.grab({"left": region.left, "top": region.top,
                               "width": region.width, "height": region.height})
        return shot.width, shot.height, shot.raw

    def close(self) -> None:
        if self._sct is not None:
            self._sct.close()
            self._sct = None


def create(**kwargs: Any) -> WindowsScreenCapture:
    return WindowsScreenCapture(**kwargs)
