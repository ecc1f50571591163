"""Linux (X11) screen capture over mss: XShmGetImage (~2 ms per 1080p frame), XGetImage fallback; a single
still (``grab_once``) uses XGetImage, cheaper than setting up a shared segment for one grab.

One ``X11ScreenCapture`` per thread (mss's XCB connection is not shared). The connection opens on the first
``grab`` (constructors do no I/O). The cursor, when asked for, is composited by mss from XFixes.
``changed(region)``: whether the region may have changed since the last True (X DAMAGE, ``x11_damage.py``), so the
recorder can skip grabbing an unchanged screen; always True where DAMAGE is missing. ``damaged(region)``, asked right
after a grab: the rectangles of the region that may differ from the grab before (None: unknown), so the recorder
converts only those.
"""

from __future__ import annotations

from typing import Any

from tray_platform.mss_backend import MssScreenCapture
from tray_platform.linux.display import open_mss


class X11ScreenCapture(MssScreenCapture):
    """Grabs BGRA pixels from an X display. Thread-safety: use from one thread only."""

    def __init__(self, *, display: str | None = None, with_cursor: bool = False):
        super().__init__()
        self._display = display
        self._with_cursor = with_cursor
        self._damage: Any = None  # x11_damage.DamageWatch, opened by the first changed(); False: unavailable

    def _open(self) -> Any:
        return open_mss(self._display, with_cursor=self._with_cursor)

    def _open_once(self) -> Any:
        # one still: XGetImage. XShm pays for a shared segment per connection -- created, faulted in by the server
        # and torn down again -- which only many grabs on one connection earn back: a fresh 1080p still took
        # 18-25 ms this way vs 37-42 ms with XShm on a loaded 2-core machine (benchmarks/screenshot_link.py)
        return open_mss(self._display, with_cursor=self._with_cursor, backend="xgetimage")

    def _watch(self) -> Any:
        """The damage watch (opened at the first call), or None: unknown."""
        if self._damage is None:
            from tray_platform.linux.x11_damage import open_damage_watch

            self._damage = open_damage_watch(self._display, cursor=self._with_cursor) or False
            return None  # it knows nothing from before its start
        return self._damage or None

    def changed(self, region: Any) -> bool:
        watch = self._watch()
        return watch.changed(region) if watch is not None else True

    def damaged(self, region: Any) -> list[tuple[int, int, int, int]] | None:
        watch = self._watch()
        return watch.damaged(region) if watch is not None else None

    def close(self) -> None:
        if self._damage:
            self._damage.close()
        self._damage = None
        super().close()


def create(**kwargs: Any) -> Any:
    """The X11 adapter, or in a Wayland session the Screenshot-portal one (see ``linux/session.py``)."""
    from tray_platform.linux.session import is_wayland

    if is_wayland():
        from tray_platform.linux import wayland_capture

        return wayland_capture.create(**kwargs)
    return X11ScreenCapture(**kwargs)


def create_stream(**kwargs: Any) -> Any:
    """For many grabs in a row (the recorder): on Wayland the ScreenCast portal's PipeWire stream (one session
    per recording) instead of one Screenshot portal call per frame; on X11 the same adapter as ``create``."""
    from tray_platform.linux.session import is_wayland

    if is_wayland():
        from tray_platform.linux import screencast

        return screencast.create(**kwargs)
    return X11ScreenCapture(**kwargs)
