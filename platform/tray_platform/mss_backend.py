"""What every OS shares over mss: a lazily opened mss instance that grabs a Region as BGRA, and the monitor list.

The per-OS modules (``<os>/capture.py``, ``<os>/display.py``) subclass :class:`MssScreenCapture` /
:class:`MssDisplayInfo` and say how to open mss there (display, cursor, DPI awareness) and how to read each
monitor's scale. mss itself is imported only inside their ``_open``.
"""

from __future__ import annotations

from typing import Any

from tray_platform.base import Monitor, Region


class MssScreenCapture:
    """Grabs BGRA pixels. Thread-safety: use from one thread only (mss connections/device contexts are per thread).
    The connection opens on the first ``grab`` (constructors do no I/O)."""

    def __init__(self) -> None:
        self._sct: Any = None

    def _open(self) -> Any:  # pragma: no cover - each OS module overrides it
        raise NotImplementedError

    def grab(self, region: Region) -> tuple[int, int, bytearray]:
        if self._sct is None:
            self._sct = self._open()
        shot = self._sct.grab({"left": region.left, "top": region.top,
                               "width": region.width, "height": region.height})
        return shot.width, shot.height, shot.raw

    def grab_once(self, region: Region) -> tuple[int, int, bytearray]:
        """One still, then :meth:`close` (a screenshot): on a connection :meth:`_open_once` makes for that, which
        an OS may make cheaper than the one kept for many grabs."""
        if self._sct is None:
            self._sct = self._open_once()
        try:
            return self.grab(region)
        finally:
            self.close()

    def _open_once(self) -> Any:
        return self._open()

    def close(self) -> None:
        if self._sct is not None:
            self._sct.close()
            self._sct = None


class MssDisplayInfo:
    """Monitors and the virtual screen, read afresh on each call (monitors come and go). Any thread."""

    def _open(self) -> Any:  # pragma: no cover - each OS module overrides it
        raise NotImplementedError

    def _raw(self) -> list[dict]:
        sct = self._open()
        try:
            return [dict(m) for m in sct.monitors]
        finally:
            sct.close()

    def monitors(self) -> list[Monitor]:  # pragma: no cover - each OS module overrides it
        raise NotImplementedError

    def virtual_screen(self) -> Region:
        m = self._raw()[0]
        return Region(m["left"], m["top"], m["width"], m["height"])
