"""Small video files written from pictures (PyAV), for the tests and benchmarks that need a known clip: a camera
played from a file, a recording to convert."""

from __future__ import annotations

import fractions
from pathlib import Path
from typing import Iterable


def write_clip(path: Path, pictures: Iterable, fps: int, *, codec: str = "libvpx-vp9",
               pix_fmt: str = "yuv420p") -> Path:
    """Write the RGB ``numpy`` pictures (all the same size) as a ``codec`` clip at ``fps``, one per 1/fps s."""
    import av

    out = av.open(str(path), "w")
    stream = None
    for i, rgb in enumerate(pictures):
        if stream is None:
            stream = out.add_stream(codec, rate=fps)
            stream.height, stream.width = rgb.shape[:2]
            stream.pix_fmt = pix_fmt
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
        frame.pts, frame.time_base = i, fractions.Fraction(1, fps)
        for packet in stream.encode(frame):
            out.mux(packet)
    if stream is not None:
        for packet in stream.encode():
            out.mux(packet)
    out.close()
    return Path(path)
