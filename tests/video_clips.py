"""Small video files written from pictures (PyAV), for the tests and benchmarks that need a known clip: a camera
played from a file, a recording to convert."""

from __future__ import annotations

import fractions
from pathlib import Path
from typing import Iterable


FRAGMENTED_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}  # as our recorder writes MP4


def write_clip(path: Path, pictures: Iterable, fps: int, *, codec: str = "libvpx-vp9",
               pix_fmt: str = "yuv420p", container_options: dict | None = None, gop: int | None = None,
               bit_rate: int | None = None, options: dict | None = None) -> Path:
    """Write the RGB ``numpy`` pictures (all the same size) as a ``codec`` clip at ``fps``, one per 1/fps s; the
    container is the file's extension (``container_options`` for its muxer), ``gop`` frames between keyframes,
    ``options`` for the encoder (e.g. x264's preset)."""
    import av

    out = av.open(str(path), "w", options=container_options or {})
    stream = None
    for i, rgb in enumerate(pictures):
        if stream is None:
            stream = out.add_stream(codec, rate=fps)
            stream.height, stream.width = rgb.shape[:2]
            stream.pix_fmt = pix_fmt
            stream.codec_context.time_base = fractions.Fraction(1, fps)
            if gop is not None:
                stream.gop_size = gop
            if bit_rate is not None:
                stream.bit_rate = bit_rate
            if options:
                stream.options = dict(options)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
        frame.pts, frame.time_base = i, fractions.Fraction(1, fps)
        for packet in stream.encode(frame):
            out.mux(packet)
    if stream is not None:
        for packet in stream.encode():
            out.mux(packet)
    out.close()
    return Path(path)
