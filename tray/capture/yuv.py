"""BGRA grabs -> yuv420p ``av.VideoFrame`` for the encoder: libyuv when it is there, else FFmpeg's swscale.

libyuv's ``ARGBToI420`` (libyuv's "ARGB" is B, G, R, A in memory: the X11/mss BGRA layout) writes straight into
the planes of a new ``av.VideoFrame``: BT.601 limited range like swscale's default, chroma as the mean of each 2x2
block. At 1920x1080 (process time, 2-core EPYC, 100 frames) it costs 1.2 ms per frame, the frame's allocation
included, against 4.1 ms for swscale with POINT chroma (what we used: the cheapest swscale flag) and 5.2 ms with
AREA; and its chroma is within 52 dB PSNR of the exact 2x2 mean where POINT's is 31 dB (a noisy block). swscale
stays the path for scaling (a grab of another size than the output), where libyuv is missing (it is an apt
package on Linux: ``libyuv0``; Windows and macOS builds use swscale) or when ``SNAPLARK_LIBYUV=0`` (the benchmark's
before/after switch).

A converter is for ONE thread (swscale keeps its own context); each call returns a new frame, so frames queued
for the encoder never share memory with the next grab.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from typing import Any, Callable

log = logging.getLogger(__name__)

# swscale flags for BGRA -> yuv420p at the same size: luma is copied 1:1 whatever the flag; only the 2:1 chroma
# subsampling differs. POINT costs ~35% less than the default BILINEAR (1280x720: 1.6 vs 2.4 ms; 1920x1080: 4.1 vs
# 6.1 ms per frame) and its chroma is within 49 dB PSNR of an AREA (box) average on a desktop-like picture, far above
# what VP9 keeps at screen-recording bitrates (measured with benchmarks/_desktop_env.desktop_background).
SWS_INTERPOLATION = "POINT"

_LIBYUV: Any = None  # the loaded ARGBToI420, False when unavailable (looked up once per process)


def libyuv_argb_to_i420() -> Any:
    """libyuv's ``ARGBToI420`` as a ctypes function, or None (no libyuv, or ``SNAPLARK_LIBYUV=0``)."""
    global _LIBYUV
    if os.environ.get("SNAPLARK_LIBYUV", "1") == "0":
        return None
    if _LIBYUV is None:
        _LIBYUV = False
        for name in ("libyuv.so.0", ctypes.util.find_library("yuv")):
            if not name:
                continue
            try:
                fn = ctypes.CDLL(name).ARGBToI420
            except (OSError, AttributeError):
                continue
            fn.argtypes = [ctypes.c_void_p, ctypes.c_int] + [ctypes.c_void_p, ctypes.c_int] * 3 + [ctypes.c_int] * 2
            fn.restype = ctypes.c_int
            _LIBYUV = fn
            break
        else:
            log.info("libyuv not found: BGRA -> yuv420p through swscale")
    return _LIBYUV or None


def make_converter(out_w: int, out_h: int) -> Callable[[int, int, Any], Any]:
    """A function ``(width, height, bgra) -> av.VideoFrame`` (yuv420p, ``out_w`` x ``out_h``; ``bgra`` tightly
    packed bytes/bytearray of any size, scaled if it differs) for ONE thread."""
    import av

    # numpy is only a zero-copy view here; its OpenBLAS would start one spinning thread per core at import
    # (~0.1 s CPU and their buffers' memory per process) for linear algebra nobody does.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy as np
    from av.video.reformatter import VideoReformatter

    reformatter = VideoReformatter()
    to_i420 = libyuv_argb_to_i420()

    def swscale(width: int, height: int, bgra):
        arr = np.frombuffer(bgra, dtype=np.uint8, count=width * height * 4).reshape(height, width, 4)
        frame = av.VideoFrame.from_numpy_buffer(arr, format="bgra")
        return reformatter.reformat(frame, width=out_w, height=out_h, format="yuv420p",
                                    interpolation=SWS_INTERPOLATION)

    if to_i420 is None:
        return swscale

    def convert(width: int, height: int, bgra):
        if (width, height) != (out_w, out_h):
            return swscale(width, height, bgra)
        src = np.frombuffer(bgra, dtype=np.uint8, count=width * height * 4)  # raises on a short buffer
        frame = av.VideoFrame(width, height, "yuv420p")
        y, u, v = frame.planes
        if to_i420(src.ctypes.data, width * 4, y.buffer_ptr, y.line_size, u.buffer_ptr, u.line_size,
                   v.buffer_ptr, v.line_size, width, height) != 0:
            raise ValueError(f"libyuv ARGBToI420 refused a {width}x{height} frame")
        return frame

    return convert
