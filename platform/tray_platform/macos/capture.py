"""macOS screen capture over mss (CGWindowListCreateImage). Regions are in points and frames come at nominal
resolution (see display.py); the cursor is not drawn (mss cannot on macOS). Untested on CI (Linux only)."""

from __future__ import annotations

from typing import Any

from tray_platform.base import Region
from tray_platform.macos.display import open_mss


class MacScreenCapture:
    """Thread-safety: use from one thread only."""

    def __init__(self, *, with_cursor: bool = False):
        self.with_cursor = False  # not supported by mss on macOS; callers may read this back
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


def create(**kwargs: Any) -> MacScreenCapture:
    return MacScreenCapture(**kwargs)
