"""Default OS adapters for capture (``SNAPLARK_CAPTURE`` overrides the OS choice, e.g. for a test backend)."""

from __future__ import annotations

from typing import Callable

from tray_platform.base import DisplayInfo, ScreenCapture, choose_backend


def default_display_info() -> DisplayInfo:
    return choose_backend("display", env_var="SNAPLARK_CAPTURE").backend


def default_capture_factory(*, cursor: bool = False, stream: bool = True) -> Callable[[], ScreenCapture]:
    """A factory the capture thread calls once (mss connections are per thread). ``stream``: many grabs in a row
    (the recorder) -- the OS module's ``create_stream`` (Wayland: the ScreenCast portal); ``stream=False``: one
    still (a screenshot) -- its ``create`` (Wayland: the Screenshot portal). On X11, macOS, Windows both are mss."""

    def make() -> ScreenCapture:
        return choose_backend("capture", env_var="SNAPLARK_CAPTURE", factory="create_stream" if stream else "create",
                              with_cursor=cursor).backend

    return make
