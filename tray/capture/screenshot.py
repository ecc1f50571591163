"""One-shot screenshots as PNG bytes (``snaplark shot``, the region selector's result, the annotator's input), and
:class:`KeptCapture`, the capture adapter the region selector keeps open between its frozen screens."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from tray_platform.base import DisplayInfo, Region, ScreenCapture

from tray.capture.target import resolve_target


@dataclass(frozen=True)
class Shot:
    """One grab and its PNG: ``bgra`` is what the screen showed (rows of ``4 * width`` bytes), ``png`` the same
    pixels, losslessly."""

    width: int
    height: int
    bgra: bytes | bytearray
    png: bytes


def _grab(target: Region | int | None, cursor: bool, display_info: DisplayInfo | None,
          capture_factory: Callable[[], ScreenCapture] | None) -> tuple[int, int, bytes | bytearray]:
    if display_info is None:
        from tray.capture.backends import default_display_info

        display_info = default_display_info()
    if isinstance(target, bool):
        raise TypeError("target must be a Region, a monitor index or None")
    region = resolve_target(display_info, target if isinstance(target, Region) else None,
                            target if isinstance(target, int) else None)
    if capture_factory is None:
        from tray.capture.backends import default_capture_factory

        capture_factory = default_capture_factory(cursor=cursor, stream=False)
    capture = capture_factory()
    grab_once = getattr(capture, "grab_once", None)  # the adapter's cheaper road to one still (X11: XGetImage)
    if grab_once is not None:
        return grab_once(region)
    try:
        return capture.grab(region)
    finally:
        capture.close()


def grab(target: Region | int | None = None, *, cursor: bool = False, display_info: DisplayInfo | None = None,
         capture_factory: Callable[[], ScreenCapture] | None = None) -> tuple[int, int, bytes | bytearray]:
    """Grab ``target`` (as :func:`capture_image`) as ``(width, height, bgra)`` through a fresh capture adapter:
    the grab half of :func:`capture_shot` (benchmarks/screenshot_link.py times the halves apart)."""
    return _grab(target, cursor, display_info, capture_factory)


def _image(width: int, height: int, bgra: bytes | bytearray):
    from PIL import Image

    return Image.frombytes("RGB", (width, height), bgra, "raw", "BGRX", 0, 1)  # bytes or bytearray: no copy


def capture_image(target: Region | int | None = None, *, cursor: bool = False,
                  display_info: DisplayInfo | None = None,
                  capture_factory: Callable[[], ScreenCapture] | None = None):
    """Grab ``target`` -- a Region, a monitor index (0-based) or None for all monitors -- as a Pillow RGB image.

    Raises ``InvalidCaptureTarget`` (region off screen / zero size / no such monitor) or ``NoDisplayError``."""
    return _image(*_grab(target, cursor, display_info, capture_factory))


class KeptCapture:
    """One screen-capture adapter kept open between still grabs: the region selector's frozen screen at every
    hotkey press. On X11 that is mss's connection and its XShm segment, whose pages the X server faults in at the
    first grab: a fresh adapter costs 13-17 ms for a 1080p still, a kept one ~2 ms. Every grab asks the display
    for its pixels afresh (never a stale picture). A grab that fails -- e.g. the screen grew past the kept
    segment, which mss answers with "recreate your MSS object" -- closes the adapter and tries once more with a
    fresh one. :meth:`release_if_idle` closes it after ``idle_s`` without a grab, so an app left idle does not keep
    the segment (8 MiB at 1080p, 32 MiB at 4K) in its RSS. Thread-safe (one lock around every use)."""

    def __init__(self, capture_factory: Callable[[], ScreenCapture] | None = None, *, cursor: bool = False,
                 idle_s: float = 120.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._factory = capture_factory
        self._cursor = cursor
        self.idle_s = idle_s
        self._clock = clock
        self._lock = threading.Lock()
        self._capture: Any = None
        self._last_use = 0.0
        self.opened = 0  # adapters opened so far (a new one per first grab, failure or idle release)

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def grab(self, region: Region) -> tuple[int, int, bytes | bytearray]:
        """``region`` (physical virtual-screen pixels, already validated) as ``(width, height, bgra)``."""
        with self._lock:
            self._last_use = self._clock()
            if self._capture is not None:
                try:
                    return self._capture.grab(region)
                except Exception:  # noqa: BLE001 - a kept connection may have gone bad: one fresh try below
                    self._close_locked()
            self._capture = self._make()
            self.opened += 1
            try:
                return self._capture.grab(region)
            except Exception:
                self._close_locked()
                raise

    def image(self, region: Region):
        """``region`` as a Pillow RGB image (see :func:`capture_image`)."""
        return _image(*self.grab(region))

    def release_if_idle(self) -> bool:
        """Close the adapter when it has not grabbed for ``idle_s``; True when it is closed now."""
        with self._lock:
            if self._capture is not None and self._clock() - self._last_use >= self.idle_s:
                self._close_locked()
            return self._capture is None

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _make(self) -> ScreenCapture:
        if self._factory is None:
            from tray.capture.backends import default_capture_factory

            self._factory = default_capture_factory(cursor=self._cursor, stream=False)
        return self._factory()

    def _close_locked(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            try:
                capture.close()
            except Exception:  # noqa: BLE001 - closing a broken connection: nothing left to release
                pass


def capture_shot(target: Region | int | None = None, *, cursor: bool = False,
                 display_info: DisplayInfo | None = None,
                 capture_factory: Callable[[], ScreenCapture] | None = None) -> Shot:
    """Grab ``target`` (as :func:`capture_image`) and encode it with :func:`tray.capture.png_fast.encode_png`."""
    from tray.capture.png_fast import encode_png

    width, height, bgra = grab(target, cursor=cursor, display_info=display_info, capture_factory=capture_factory)
    return Shot(width, height, bgra, encode_png(width, height, bgra))


def capture_png(target: Region | int | None = None, *, cursor: bool = False,
                display_info: DisplayInfo | None = None,
                capture_factory: Callable[[], ScreenCapture] | None = None,
                compress_level: int | None = None) -> bytes:
    """Grab ``target`` (Region, monitor index, or None = all monitors) and return it PNG-encoded, losslessly.

    ``compress_level`` None (the default): :mod:`tray.capture.png_fast` ("Up" filter + zlib-ng; on a 1080p
    desktop-like screen ~4x less CPU than Pillow at level 1 and ~13 % smaller, benchmarks/screenshot_link.py).
    An int: Pillow's writer at that zlib level (the path before issue 21; the benchmark runs both)."""
    if compress_level is None:
        return capture_shot(target, cursor=cursor, display_info=display_info, capture_factory=capture_factory).png
    image = capture_image(target, cursor=cursor, display_info=display_info, capture_factory=capture_factory)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=compress_level)
    return out.getvalue()
