"""BGRA grabs -> yuv420p ``av.VideoFrame`` for the encoder: FFmpeg's swscale, or libyuv when asked for.

swscale (POINT chroma, the cheapest of its flags; its luma is the exact BT.601 limited-range value: 85 dB PSNR
against the float formula on a 1080p desktop grab) is the default. ``SNAPLARK_LIBYUV=1`` takes libyuv's
``ARGBToI420`` instead (libyuv's "ARGB" is B, G, R, A in memory: the X11/mss BGRA layout), written straight into the
planes of a new ``av.VideoFrame``, chroma the mean of each 2x2 block. It costs 1.2 ms per 1920x1080 frame (the
frame's allocation included) against 4-5 ms of process time for swscale (which also wakes two worker threads), but
its 8-bit coefficients put luma 1 level off on ~10 % of the pixels (58 dB against the formula), and VP9 keeps that
error: measured with benchmarks/recording.py --variant, the moving pattern's file lost 14 dB of luma PSNR (57.6 vs
72.0 dB, SSIM 0.9998 vs 0.9999) for ~15 % less CPU -- not "the same picture", so it is not the default (issue 21
goal 1 asks for equal or better picture). swscale is used for scaling (a grab of another size than the output)
and where libyuv is missing (the apt package ``libyuv0`` on Linux) in any case.

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
    """libyuv's ``ARGBToI420`` as a ctypes function when ``SNAPLARK_LIBYUV=1`` and libyuv loads, else None."""
    global _LIBYUV
    if os.environ.get("SNAPLARK_LIBYUV", "0") != "1":
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
            log.info("SNAPLARK_LIBYUV=1 but libyuv was not found: BGRA -> yuv420p through swscale")
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
