"""Lossless PNG for screenshots, written for speed: one PNG "Up" filter for every row (numpy) and zlib-ng's deflate.

A screenshot is what the user waits for between the capture and the link on the clipboard, and Pillow's PNG writer
spent most of that time: it tries the five PNG filters on every row and picks one (its per-row heuristic), then
deflates with zlib. On a 1920x1080 desktop-like scene (benchmarks/screenshot_link.py prints the whole table of
options on the machine it runs on; 2-core EPYC, CPU time) Pillow level 1 took ~49 ms for 246 KiB; this writer
~13 ms for 214 KiB: a screen's rows repeat the row above more than anything else, so "Up" alone does about as well
as the per-row choice (6 ms in numpy: the BGRA->RGB copy and one subtract), and zlib-ng's level 3 (8 ms) compresses
it smaller than zlib's level 3. zlib-ng level 2 would save ~2 ms for +8 % bytes, level 1 ~4 ms for +50 %; on a real
uplink the bytes cost more than that. The output is an ordinary 8-bit RGB PNG (colour type 2, no interlace); any
decoder reads it, and the pixels are exactly the input's.

Without the ``zlib-ng`` wheel (a dependency; absent on some platform), the stdlib's zlib at level 1 is used: the same
file format, a little bigger and slower.

Any thread; no state.
"""

from __future__ import annotations

import os
import struct
import zlib
from types import ModuleType
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILTER_NONE, FILTER_UP = 0, 2


def deflater() -> tuple[ModuleType, int]:
    """(zlib-compatible module, level): zlib-ng at 3 when installed, else the stdlib's zlib at 1."""
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return zlib, 1
    return zlib_ng, 3


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def filtered_rows(width: int, height: int, pixels: Any, layout: str):
    """PNG scanlines (filter byte + RGB) as a ``(height, 1 + 3 * width)`` uint8 array: row 0 unfiltered, the others
    "Up" (each byte minus the one above, mod 256). ``pixels``: ``"BGRA"`` rows of ``4 * width`` bytes (a grab;
    the 4th byte is ignored) or ``"RGB"`` rows of ``3 * width`` bytes (Pillow's ``tobytes()``)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy only copies here (see tray/capture/encoder.py)
    import numpy as np

    if layout == "BGRA":
        src = np.frombuffer(pixels, dtype=np.uint8, count=width * height * 4).reshape(height, width, 4)
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[..., 0], rgb[..., 1], rgb[..., 2] = src[..., 2], src[..., 1], src[..., 0]
        rgb = rgb.reshape(height, width * 3)
    elif layout == "RGB":
        rgb = np.frombuffer(pixels, dtype=np.uint8, count=width * height * 3).reshape(height, width * 3)
    else:
        raise ValueError(f"pixel layout must be 'BGRA' or 'RGB', got {layout!r}")
    rows = np.empty((height, 1 + width * 3), dtype=np.uint8)
    rows[0, 0], rows[0, 1:] = FILTER_NONE, rgb[0]
    rows[1:, 0] = FILTER_UP
    np.subtract(rgb[1:], rgb[:-1], out=rows[1:, 1:])
    return rows


def encode_png(width: int, height: int, pixels: Any, *, layout: str = "BGRA") -> bytes:
    """``pixels`` (see :func:`filtered_rows`) as PNG bytes, losslessly. ``ValueError`` for a size that is not
    positive or a buffer shorter than the size says."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    need = width * height * (4 if layout == "BGRA" else 3)
    if len(memoryview(pixels).cast("B")) < need:
        raise ValueError(f"{layout} pixels for {width}x{height} need {need} bytes, got {len(pixels)}")
    rows = filtered_rows(width, height, pixels, layout)
    module, level = deflater()
    idat = module.compress(memoryview(rows).cast("B"), level)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, adaptive filters, no interlace
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def encode_image(image: Any) -> bytes:
    """A Pillow image as PNG bytes: an RGB one (screenshots, annotated or not) through :func:`encode_png`, any other
    mode (alpha, palette, grey) through Pillow at level 1, so nothing of it is lost."""
    if image.mode == "RGB":
        return encode_png(image.width, image.height, image.tobytes(), layout="RGB")
    import io

    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()
