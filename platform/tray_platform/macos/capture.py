"""macOS screen capture over mss (CGWindowListCreateImage). Regions are in points and frames come at nominal
resolution (see display.py); the cursor is not drawn (mss cannot on macOS). Untested on CI (Linux only)."""

from __future__ import annotations

from typing import Any

from tray_platform.mss_backend import MssScreenCapture
from tray_platform.macos.display import open_mss


class MacScreenCapture(MssScreenCapture):
    """Thread-safety: use from one thread only."""

    def __init__(self, *, with_cursor: bool = False):
        super().__init__()
        self.with_cursor = False  # not supported by mss on macOS; callers may read this back

    def _open(self) -> Any:
        return open_mss()


def create(**kwargs: Any) -> MacScreenCapture:
    return MacScreenCapture(**kwargs)


create_stream = create  # the recorder's many grabs in a row use the same adapter as one screenshot here
