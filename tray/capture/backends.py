"""Default OS adapters for capture (``SNAPLARK_CAPTURE`` overrides the OS choice, e.g. for a test backend)."""

from __future__ import annotations

from typing import Callable

from tray_platform.base import DisplayInfo, ScreenCapture, choose_backend


def default_display_info() -> DisplayInfo:
    return choose_backend("display", env_var="SNAPLARK_CAPTURE").backend


def default_capture_factory(*, cursor: bool = False) -> Callable[[], ScreenCapture]:
    """A factory the capture thread calls once (mss connections are per thread)."""

    def make() -> ScreenCapture:
        return choose_backend("capture", env_var="SNAPLARK_CAPTURE", with_cursor=cursor).backend

    return make
