"""A finished recording (the normal WebM/MP4 spool) -> an animated GIF, for short clips (``snaplark record --format
gif``, ``capture.format = "gif"``, and ``snaplark gif RECORDING [--start S --end S]`` for a part of any recording).

* One palette for the whole clip (256 colours, median cut over up to :data:`PALETTE_SAMPLES` frames spread over
  the clip, reduced to :data:`PALETTE_SAMPLE_SIDE` px): no colour flicker between frames, and the encoder's frame
  differencing works on stable indices.
* Dithering off by default (screen content: flat colours and text stay clean; dithered noise also defeats the
  frame differencing and makes the file larger).
* At most :data:`GIF_FPS_CAP` frames per second (the spool is variable-rate: a tick shows the latest frame; an
  unchanged screen adds no frame, the previous one lasts longer), the longer side at most :data:`GIF_MAX_SIDE`
  pixels, and at most :data:`GIF_MAX_SECONDS` seconds (:class:`GifTooLong` names the limit).
* Written frame by frame through PyAV's GIF encoder (pal8), so memory stays at a few frames whatever the length.
"""

from __future__ import annotations

import dataclasses
import fractions
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIF_FPS_CAP = 15
GIF_MAX_SECONDS = 60
GIF_MAX_SIDE = 960
PALETTE_SAMPLES = 24
PALETTE_SAMPLE_SIDE = 480  # samples are reduced (nearest neighbour: real colours only) to bound the work
_SLACK = 0.25  # a recording stopped by its 60 s limit may last a few ms more
_TS_SLACK = 0.002  # WebM stores milliseconds: a frame at 2/30 s reads back as 0.067 s, after the 1/15 s tick


class GifTooLong(ValueError):
    """The clip is longer than :data:`GIF_MAX_SECONDS`."""


def too_long_message(seconds: float) -> str:
    return (f"GIF clips are limited to {GIF_MAX_SECONDS} s, this one is {seconds:.1f} s: record it as webm or mp4 "
            f"(--format webm), or trim it to {GIF_MAX_SECONDS} s or less first")


def gif_max_duration(setting: float) -> float:
    """How long a GIF recording may run: ``capture.max_duration`` (0 = no limit) capped at the GIF limit."""
    return float(GIF_MAX_SECONDS) if setting == 0 else min(float(setting), float(GIF_MAX_SECONDS))


def stopped_at_limit(duration: float) -> bool:
    """Whether a recording of ``duration`` s ended at the GIF limit (the recorder stops a few ms either side)."""
    return duration >= GIF_MAX_SECONDS - 0.05


@dataclass(frozen=True)
class GifResult:
    path: Path
    frames: int
    duration: float  # seconds
    width: int
    height: int
    bytes: int
    scaled_from: tuple[int, int] | None = None  # the source size when the size cap applied

    def describe(self) -> str:
        scaled = (f" (scaled from {self.scaled_from[0]}x{self.scaled_from[1]}: GIFs are at most {GIF_MAX_SIDE} px)"
                  if self.scaled_from else "")
        return (f"GIF {self.width}x{self.height}{scaled}, {self.frames} frames, {self.duration:.2f} s, "
                f"{self.bytes / 1024:.0f} KiB")


def gif_size(width: int, height: int, max_side: int = GIF_MAX_SIDE) -> tuple[int, int]:
    if max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def clip_duration(src: Path) -> float:
    """The recording's length in seconds, from its container."""
    import av

    with av.open(str(src)) as container:
        return _duration(container, container.streams.video[0])


def convert_to_gif(src: Path, dst: Path, *, fps: int = GIF_FPS_CAP, max_side: int = GIF_MAX_SIDE,
                   duration: float | None = None, dither: bool = False, start: float = 0.0,
                   end: float | None = None) -> GifResult:
    """Write ``dst`` from the video ``src``; ``duration``: the clip's length when the caller knows it (the
    recorder's), else the container's. ``start``/``end`` (seconds, ``end`` at most the length): only that part,
    the GIF starting with the picture shown at ``start``. Raises :class:`GifTooLong` before writing anything when
    the part is too long, ``ValueError`` for a range outside the clip."""
    import av
    from PIL import Image

    fps = max(1, min(int(fps), GIF_FPS_CAP))
    src, dst = Path(src), Path(dst)
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        length = duration if duration is not None else _duration(container, stream)
        start, stop = float(start), length if end is None else min(float(end), length)
        if not 0 <= start < stop:
            raise ValueError(f"{start:g}-{stop:g} s is not a part of {src.name} (it lasts {length:.2f} s)")
        total = stop - start
        if total > GIF_MAX_SECONDS + _SLACK:
            raise GifTooLong(too_long_message(total))
        source_size = (stream.codec_context.width, stream.codec_context.height)
        size = gif_size(*source_size, max_side)
        samples = [frame.to_image() for frame in
                   _spread(_decode_from(container, stream, start), start, total, PALETTE_SAMPLES)]
    if not samples:
        raise ValueError(f"{src} has no video frames to make a GIF of")
    sample_size = gif_size(*size, PALETTE_SAMPLE_SIDE)
    palette = _palette([s.resize(sample_size, Image.Resampling.NEAREST) if s.size != sample_size else s
                        for s in samples])
    ticks = max(1, round(total * fps))
    order = _pal8_order()
    dither_mode = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    written = 0
    out = av.open(str(dst), "w", format="gif")
    try:
        gif = out.add_stream("gif", rate=fps)
        gif.width, gif.height, gif.pix_fmt = size[0], size[1], "pal8"
        with av.open(str(src)) as container:
            frames = _decode_from(container, container.streams.video[0], start)
            current, pending, shown, last_tick = None, next(frames, None), None, -1
            for tick in range(ticks):
                t = start + tick / fps
                while pending is not None and (pending.time or 0.0) <= t + _TS_SLACK:
                    current, pending = pending, next(frames, None)
                if current is None or current is shown:
                    continue  # nothing yet / unchanged: the previous GIF frame lasts longer
                shown, last_image, last_tick = current, current.to_image(), tick
                written += _encode(out, gif, _pal8_frame(last_image, size, palette, dither_mode, order), tick, fps)
            if 0 <= last_tick < ticks - 1:  # the last picture stayed: repeat it so the clip keeps its length
                written += _encode(out, gif, _pal8_frame(last_image, size, palette, dither_mode, order),
                                   ticks - 1, fps)
        for packet in gif.encode():
            out.mux(packet)
    finally:
        out.close()
    return GifResult(dst, *_measure(dst), size[0], size[1], dst.stat().st_size,
                     scaled_from=source_size if size != source_size else None)


def free_gif_path(src: Path) -> Path:
    """Where "Save as GIF" puts the GIF of ``src``: ``NAME.gif`` beside it, else ``NAME-2.gif``, ``NAME-3.gif``...
    (never an existing file)."""
    src = Path(src)
    candidate, n = src.with_suffix(".gif"), 1
    while candidate.exists():
        n += 1
        candidate = src.with_name(f"{src.stem}-{n}.gif")
    return candidate


def save_gif(src: Path, dst: Path, **options: Any) -> GifResult:
    """:func:`convert_to_gif` into ``dst.part``, renamed to ``dst`` when complete: a failed or refused conversion
    leaves no file behind (and an existing ``dst`` untouched)."""
    import os

    dst = Path(dst)
    part = dst.with_name(dst.name + ".part")
    try:
        result = convert_to_gif(src, part, **options)
        os.replace(part, dst)
    finally:
        part.unlink(missing_ok=True)
    return dataclasses.replace(result, path=dst)


def _encode(out: Any, stream: Any, frame: Any, tick: int, fps: int) -> int:
    frame.pts, frame.time_base = tick, fractions.Fraction(1, fps)
    for packet in stream.encode(frame):
        out.mux(packet)
    return 1


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    last = 0.0
    for frame in container.decode(stream):
        last = frame.time or last
    return last


def _decode_from(container: Any, stream: Any, start: float) -> Any:
    """The decoded frames from the keyframe at or before ``start`` on (all of them from 0)."""
    if start > 0 and stream.time_base is not None:
        container.seek(int(start / stream.time_base), stream=stream, backward=True)
    return container.decode(stream)


def _spread(frames: Any, start: float, total: float, count: int) -> list:
    """Up to ``count`` frames spread evenly over ``start`` .. ``start + total`` (the first: the one shown at
    ``start``, which may begin before it)."""
    picked, step, nxt, before = [], max(total, 1e-3) / count, start, None
    for frame in frames:
        t = frame.time or 0.0
        if t + _TS_SLACK < start:
            before = frame
            continue
        if before is not None and t > start + _TS_SLACK:
            picked.append(before)
            nxt += step
        before = None
        if t > start + total:
            break
        if t + 1e-6 >= nxt:
            picked.append(frame)
            nxt += step
            if len(picked) == count:
                break
    if before is not None and not picked:
        picked.append(before)
    return picked


def _palette(images: list) -> Any:
    """One 256-colour palette (median cut, no dithering) for all the sample frames stacked together."""
    from PIL import Image

    w, h = images[0].size
    sheet = Image.new("RGB", (w, h * len(images)))
    for i, image in enumerate(images):
        sheet.paste(image.convert("RGB"), (0, i * h))
    return sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def _pal8_order() -> list[int]:
    """Which column of PyAV's pal8 palette array holds R, G and B (and alpha): found once by converting a 1x1
    frame with a known entry, so a PyAV that changes the layout still gets the right colours."""
    import av
    import numpy as np

    palette = np.zeros((256, 4), dtype=np.uint8)
    palette[0] = (10, 20, 30, 40)
    frame = av.VideoFrame.from_ndarray([np.zeros((2, 2), dtype=np.uint8), palette], format="pal8")
    r, g, b = (int(v) for v in frame.reformat(format="rgb24").to_ndarray()[0, 0])
    columns = {10: 0, 20: 1, 30: 2, 40: 3}
    order = [columns.get(r), columns.get(g), columns.get(b)]
    if None in order:
        raise RuntimeError(f"PyAV's pal8 palette layout is not understood (got {r},{g},{b})")
    alpha = ({0, 1, 2, 3} - set(order)).pop()
    return [*order, alpha]  # the columns for R, G, B, A


def _pal8_frame(image: Any, size: tuple[int, int], palette: Any, dither: Any, order: list[int]) -> Any:
    import av
    import numpy as np
    from PIL import Image

    rgb = image.convert("RGB")
    if rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    indexed = rgb.quantize(palette=palette, dither=dither)
    colours = indexed.getpalette() or []
    colours = (colours + [0] * 768)[:768]
    table = np.zeros((256, 4), dtype=np.uint8)
    rgb_table = np.array(colours, dtype=np.uint8).reshape(256, 3)
    for channel, column in enumerate(order[:3]):
        table[:, column] = rgb_table[:, channel]
    table[:, order[3]] = 255
    return av.VideoFrame.from_ndarray([np.asarray(indexed, dtype=np.uint8), table], format="pal8")


def _measure(path: Path) -> tuple[int, float]:
    """(frames, seconds) of the written GIF as Pillow reads it."""
    from PIL import Image

    with Image.open(path) as gif:
        frames, ms = 0, 0
        for index in range(gif.n_frames):
            gif.seek(index)
            frames += 1
            ms += gif.info.get("duration", 0)
    return frames, ms / 1000
