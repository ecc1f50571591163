"""One-shot screenshots as PNG bytes (``snaplark shot``, the region selector's result, the annotator's input)."""

from __future__ import annotations

import io
from typing import Callable

from tray_platform.base import DisplayInfo, Region, ScreenCapture

from tray.capture.target import resolve_target


def capture_image(target: Region | int | None = None, *, cursor: bool = False,
                  display_info: DisplayInfo | None = None,
                  capture_factory: Callable[[], ScreenCapture] | None = None):
    """Grab ``target`` -- a Region, a monitor index (0-based) or None for all monitors -- as a Pillow RGB image.

    Raises ``InvalidCaptureTarget`` (region off screen / zero size / no such monitor) or ``NoDisplayError``."""
    from PIL import Image

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
        width, height, bgra = capture.grab(region)
    finally:
        capture.close()
    return Image.frombuffer("RGB", (width, height), bytes(bgra), "raw", "BGRX", 0, 1)


def capture_png(target: Region | int | None = None, *, cursor: bool = False,
                display_info: DisplayInfo | None = None,
                capture_factory: Callable[[], ScreenCapture] | None = None, compress_level: int = 1) -> bytes:
    """Grab ``target`` (Region, monitor index, or None = all monitors) and return it PNG-encoded.

    zlib level 1 by default: on a 1080p screen it encodes in about half the time of level 6 for ~15 % more bytes
    (measured: 52 vs 92 ms, 245 vs 212 KiB), and the capture-to-link path is what the user waits for."""
    image = capture_image(target, cursor=cursor, display_info=display_info, capture_factory=capture_factory)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=compress_level)
    return out.getvalue()
