"""One-shot screenshots as PNG bytes (``snaplark shot``, the region selector's result, the annotator's input)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

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
    try:
        return capture.grab(region)
    finally:
        capture.close()


def capture_image(target: Region | int | None = None, *, cursor: bool = False,
                  display_info: DisplayInfo | None = None,
                  capture_factory: Callable[[], ScreenCapture] | None = None):
    """Grab ``target`` -- a Region, a monitor index (0-based) or None for all monitors -- as a Pillow RGB image.

    Raises ``InvalidCaptureTarget`` (region off screen / zero size / no such monitor) or ``NoDisplayError``."""
    from PIL import Image

    width, height, bgra = _grab(target, cursor, display_info, capture_factory)
    return Image.frombuffer("RGB", (width, height), bytes(bgra), "raw", "BGRX", 0, 1)


def capture_shot(target: Region | int | None = None, *, cursor: bool = False,
                 display_info: DisplayInfo | None = None,
                 capture_factory: Callable[[], ScreenCapture] | None = None) -> Shot:
    """Grab ``target`` (as :func:`capture_image`) and encode it with :func:`tray.capture.png_fast.encode_png`."""
    from tray.capture.png_fast import encode_png

    width, height, bgra = _grab(target, cursor, display_info, capture_factory)
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
