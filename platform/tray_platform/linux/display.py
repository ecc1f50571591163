"""Linux (X11) monitor layout over mss (XCB + RandR).

mss is imported lazily so this module imports without a display. Every call opens a short-lived connection and
closes it again, so an instance holds nothing between calls and may be kept around.
"""

from __future__ import annotations

import os
from typing import Any

from tray_platform.mss_backend import MssDisplayInfo
from tray_platform.base import Monitor, NoDisplayError, Region


def open_mss(display: str | None = None, **kwargs: Any):
    """Open an ``mss.MSS`` for the X display ``display`` (default ``$DISPLAY``); raise NoDisplayError clearly."""
    name = display or os.environ.get("DISPLAY")
    if not name:
        raise NoDisplayError("no X display to capture: DISPLAY is not set")
    import mss  # lazy: needs libxcb only when used

    try:
        return mss.MSS(display=name, **kwargs)
    except mss.ScreenShotError as exc:
        raise NoDisplayError(f"cannot open X display {name!r}: {exc}") from exc


def monitors_from_mss(raw: list[dict]) -> list[Monitor]:
    """mss's list (index 0 = all monitors, 1..n = physical ones) -> our 0-based ``Monitor`` list."""
    out = []
    for i, m in enumerate(raw[1:]):
        out.append(Monitor(index=i, region=Region(m["left"], m["top"], m["width"], m["height"]),
                           scale=1.0, primary=bool(m.get("is_primary", False))))
    if out and not any(m.primary for m in out):  # X without a RandR primary: the first one is primary
        out[0] = Monitor(index=0, region=out[0].region, scale=1.0, primary=True)
    return out


class X11DisplayInfo(MssDisplayInfo):
    """Monitors and the virtual screen of one X display. On X11 pixels are physical, so ``scale`` is 1.0."""

    def __init__(self, *, display: str | None = None):
        self._display = display

    def _open(self) -> Any:
        return open_mss(self._display)

    def monitors(self) -> list[Monitor]:
        return monitors_from_mss(self._raw())

    def layout(self) -> tuple[Region, list[Monitor]]:
        """``(virtual_screen(), monitors())`` from one connection (each of those opens its own: ~3 ms apiece)."""
        raw = self._raw()
        m = raw[0]
        return Region(m["left"], m["top"], m["width"], m["height"]), monitors_from_mss(raw)


def create(**kwargs: Any) -> Any:
    """The X11 adapter, or in a Wayland session the wl_output one (see ``linux/session.py``)."""
    from tray_platform.linux.session import is_wayland

    if is_wayland():
        from tray_platform.linux import wayland_display

        return wayland_display.create(**kwargs)
    return X11DisplayInfo(**kwargs)
