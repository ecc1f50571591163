"""Windows screen capture over mss (GDI BitBlt) in physical pixels (mss sets per-monitor DPI awareness before the
first call). The cursor is not drawn (mss cannot on Windows). Untested on CI (Linux only)."""

from __future__ import annotations

from typing import Any

from tray_platform.mss_backend import MssScreenCapture
from tray_platform.windows.display import open_mss


class WindowsScreenCapture(MssScreenCapture):
    """Thread-safety: use from one thread only (GDI device contexts are per thread)."""

    def __init__(self, *, with_cursor: bool = False):
        super().__init__()
        self.with_cursor = False  # not supported by mss on Windows; callers may read this back

    def _open(self) -> Any:
        return open_mss()


def create(**kwargs: Any) -> WindowsScreenCapture:
    return WindowsScreenCapture(**kwargs)


create_stream = create  # the recorder's many grabs in a row use the same adapter as one screenshot here
