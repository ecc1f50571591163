"""BGRA grabs -> yuv420p frames converting only what changed (issue 21 goal 1: recording CPU on a moving screen).

:class:`DamageConverter` wraps the full converter of :mod:`tray.capture.yuv` (swscale). The capture backend tells,
right after each grab, which rectangles of the region may differ from the grab before (``capture.damaged(region)``:
the X DAMAGE areas on X11, plus boxes around a drawn cursor that moved; None when it cannot tell). The converter
keeps a *shadow* -- a copy of the BGRA pixels its last frame was converted from -- and, for a grab with known damage,
compares only the damaged rectangles with the shadow (numpy, 4 bytes per pixel at a time), converts only the
rectangles whose pixels really differ (an X client often reports one bounding box for a few small drawings: Tk's
canvas, for one), writes them into a copy of the last frame's planes and updates the shadow there.

Exact: swscale's BGRA -> yuv420p at the same size (POINT chroma) computes each luma byte from its pixel and each
chroma byte from its own 2x2 block, so converting a rectangle with even corners gives the same bytes as the full
conversion gives there (tests/unit/capture/test_damage_convert.py checks random rectangles byte for byte). Changed
rectangles are grown to even corners and to widths in steps of :data:`W_STEP` pixels and converted in bands of
:data:`BAND_H` rows, so the few swscale contexts kept (:data:`CONTEXTS`, one per width) are reused from frame to frame
(a context made for every new size cost more than the conversions it saved).

Damage that arrives late (drawing a grab shows, reported after it) is not lost: the shadow is only updated where a
rectangle was converted, so the area still differs from the shadow when its report comes and is converted then. A
full conversion is made when the damage is unknown, for the first frame, at least once per ``full_every`` seconds
(the capture loop's safety), when the grab is not at the output size (scaling) or has an odd side, and when the
changed area is more than :data:`FULL_FRACTION` of the frame; after such a busy frame the shadow is dropped for
:data:`RETRY_AFTER` frames (no compare, no 8 MiB shadow copy: a screen that changes everywhere costs what it cost
before). Frames handed out are never written to again (a new frame each time: copying the 1080p planes costs
~0.1 ms), so a frame queued for the encoder cannot change under it.

Off unless ``SNAPLARK_DAMAGE_CONVERT=1`` (opt-in): measured on the benchmark's moving scene (Tk reports one bounding
box of ~68 % of a 1080p frame per redraw, so the compare is needed and costs ~1.7 ms) it saved ~3-5 % of the
recording CPU at 1080p, cost ~5 % more at 720p and 9-25 MiB more memory at 1080p (the shadow grab, a third malloc
arena) -- a gain only for screens whose apps report tight damage (terminals, editors, the cursor). It is
also off with libyuv (``SNAPLARK_LIBYUV=1``: its rounding differs from swscale's, a mix would show seams).
Thread-safety: one thread (the recorder's capture thread), like the converter it wraps.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Callable, Sequence

#: A frame whose changed area is more than this fraction of it is converted whole.
FULL_FRACTION = 0.5
#: After a frame converted whole because most of it changed, this many frames are converted whole without a shadow.
RETRY_AFTER = 15
#: Reported damage covering at least this fraction of the frame: converted whole at once (no compare).
DAMAGE_FULL_FRACTION = 0.9
#: More damage rectangles than this are replaced by their bounding box (numpy calls cost per rectangle).
MAX_RECTS = 32
#: Changed rows (columns) closer than this are converted as one rectangle (a reformat call costs ~70 us, what
#: converting ~40000 pixels costs).
ROW_GAP, COL_GAP = 48, 256
#: Converted rectangles are this many pixels wide in steps and cut into bands this high, so the few swscale
#: contexts (one per width) are reused: a new context costs ~1 ms at 1000 px wide, a reformat ~0.07 ms + 2 ns/pixel.
W_STEP, BAND_H = 128, 64
#: swscale contexts kept, one per rectangle width (least recently used dropped).
CONTEXTS = 16
ENV_SWITCH = "SNAPLARK_DAMAGE_CONVERT"

Rect = tuple[int, int, int, int]  # x, y, width, height, relative to the grabbed region


def enabled() -> bool:
    """Whether damage conversion is on (asked for with the switch, and libyuv not asked for)."""
    from tray.capture.yuv import libyuv_argb_to_i420

    return os.environ.get(ENV_SWITCH, "0").strip() == "1" and libyuv_argb_to_i420() is None


def plane_arrays(frame: Any) -> list[Any]:
    """The Y, U, V planes of a yuv420p ``av.VideoFrame`` as writable numpy views (height x width, padding cut)."""
    import numpy as np

    w, h = frame.width, frame.height
    out = []
    for i, plane in enumerate(frame.planes):
        pw, ph = (w, h) if i == 0 else ((w + 1) // 2, (h + 1) // 2)
        a = np.frombuffer(plane, dtype=np.uint8, count=plane.line_size * ph).reshape(ph, plane.line_size)
        out.append(a[:, :pw])
    return out


def _runs(indices: Any, gap: int) -> list[tuple[int, int]]:
    """[start, end) runs of sorted ``indices``, joining runs less than ``gap`` apart."""
    import numpy as np

    if len(indices) == 1:
        i = int(indices[0])
        return [(i, i + 1)]
    breaks = np.flatnonzero(np.diff(indices) > gap)
    starts = [int(indices[0])] + [int(indices[b + 1]) for b in breaks]
    ends = [int(indices[b]) + 1 for b in breaks] + [int(indices[-1]) + 1]
    return list(zip(starts, ends))


def _grow(a0: int, a1: int, step: int, size: int) -> tuple[int, int]:
    """[a0, a1) grown to even ends and a length in steps of ``step`` (``size``, even, caps it)."""
    a0 &= ~1
    length = min(size, -(-(a1 - a0) // step) * step)
    return min(a0, size - length), length


class DamageConverter:
    """See the module docstring. ``convert`` is the full converter ``(width, height, bgra) -> av.VideoFrame``."""

    def __init__(self, convert: Callable[[int, int, Any], Any]) -> None:
        self._convert_full = convert
        self._pending: list[Rect] | None = None  # damage since the last conversion; None: unknown
        self._report: list[Rect] | None = None  # the last report
        self._carry: list[Rect] = []  # the report of the grab last converted: compared again at the next one
        self._known = False  # the last report was a list (so keeping a shadow can pay off)
        self._shadow: Any = None  # uint32 (h, w): the pixels the last frame was converted from; None: none kept
        self._last: Any = None  # the last frame handed out (never written to again)
        self._contexts: OrderedDict[tuple[int, int], Any] = OrderedDict()
        self._retry_in = 0
        self._ne: Any = None  # the compare's output buffer
        self.frames_full = self.frames_partial = 0
        self.pixels_converted = 0  # by partial conversions (for tests and benchmarks)

    def damage(self, rects: Sequence[Rect] | None) -> None:
        """What the backend reported right after a grab (None: unknown); kept until the next conversion."""
        self._known = rects is not None
        self._report = None if rects is None else list(rects)
        if rects is None:
            self._pending = None
        elif self._pending is not None:
            self._pending.extend(rects)
            if len(self._pending) > MAX_RECTS:
                self._pending = [_bbox(self._pending)]

    def __call__(self, width: int, height: int, bgra: Any, *, full: bool = False) -> Any:
        """The yuv420p frame of this grab; ``full``: convert it whole (the capture loop's safety)."""
        rects, self._pending = self._pending, []
        if rects is not None:  # drawing reported after the last converted grab may only show in this one
            rects = _merge(self._carry + rects)
        self._carry = self._report or []
        last = self._last
        if (full or rects is None or self._shadow is None or last is None or self._retry_in
                or (width, height) != (last.width, last.height)):
            return self._full(width, height, bgra, rects)
        rects = [r for r in (_clip(r, width, height) for r in rects) if r is not None]
        if not rects:
            return last  # nothing reported: the screen is what the last frame shows
        if sum(r[2] * r[3] for r in rects) >= DAMAGE_FULL_FRACTION * width * height:
            return self._full(width, height, bgra, rects)
        import numpy as np

        cur = np.frombuffer(bgra, dtype=np.uint32, count=width * height).reshape(height, width)
        changed = self._changed(cur, rects, width, height)
        if not changed:
            return last
        if sum(w * h for _, _, w, h in changed) > FULL_FRACTION * width * height:
            self._retry_in = RETRY_AFTER
            return self._full(width, height, bgra, rects)
        return self._partial(width, height, bgra, cur, changed)

    def _changed(self, cur: Any, rects: list[Rect], width: int, height: int) -> list[Rect]:
        """The rectangles (even corners, sizes in steps) in which ``cur`` differs from the shadow. Compared two
        pixels at a time (uint64: the rectangles have even corners, and what is converted is 2x2 blocks anyway)."""
        import numpy as np

        cur64, shadow64 = cur.view(np.uint64), self._shadow.view(np.uint64)
        if self._ne is None or self._ne.shape != cur64.shape:
            self._ne = np.empty(cur64.shape, dtype=bool)  # kept: a new 1 MiB array each frame costs page faults
        out: list[Rect] = []
        for x, y, w, h in rects:
            x2, w2 = x // 2, (w + 1) // 2
            ne = np.not_equal(cur64[y:y + h, x2:x2 + w2], shadow64[y:y + h, x2:x2 + w2], out=self._ne[:h, :w2])
            rows = np.flatnonzero(ne.any(axis=1))
            if not rows.size:
                continue
            for r0, r1 in _runs(rows, ROW_GAP):
                for c0, c1 in _runs(np.flatnonzero(ne[r0:r1].any(axis=0)), COL_GAP // 2):
                    # the rows of this column run only (runs side by side can have other heights)
                    sub = np.flatnonzero(ne[r0:r1, c0:c1].any(axis=1))
                    gx, gw = _grow(x + 2 * c0, x + 2 * c1, W_STEP, width)
                    gy, gh = _grow(y + r0 + int(sub[0]), y + r0 + int(sub[-1]) + 1, 2, height)
                    bh = min(BAND_H, height)
                    for by in range(gy, gy + gh, bh):
                        out.append((gx, min(by, height - bh), gw, bh))
        return out

    def _full(self, width: int, height: int, bgra: Any, rects: list[Rect] | None) -> Any:
        import numpy as np

        frame = self._convert_full(width, height, bgra)
        self.frames_full += 1
        self._last = frame
        if self._retry_in:
            self._retry_in -= 1
            self._shadow = None
            return frame
        area = None if rects is None else sum(r[2] * r[3] for r in rects)
        keep = (self._known and (frame.width, frame.height) == (width, height) and width % 2 == 0
                and height % 2 == 0 and (area is None or area < DAMAGE_FULL_FRACTION * width * height))
        if not keep:
            self._shadow = None
            return frame
        cur = np.frombuffer(bgra, dtype=np.uint32, count=width * height).reshape(height, width)
        if self._shadow is None or self._shadow.shape != cur.shape:
            self._shadow = np.empty_like(cur)
        np.copyto(self._shadow, cur)
        return frame

    def _partial(self, width: int, height: int, bgra: Any, cur: Any, changed: list[Rect]) -> Any:
        import av
        import numpy as np

        frame = av.VideoFrame(width, height, "yuv420p")
        dst = plane_arrays(frame)
        for d, s in zip(dst, plane_arrays(self._last)):
            np.copyto(d, s)
        pixels = np.frombuffer(bgra, dtype=np.uint8, count=width * height * 4).reshape(height, width, 4)
        shadow = self._shadow
        for x, y, w, h in changed:
            part = self._context(w, h).reformat(av.VideoFrame.from_numpy_buffer(pixels[y:y + h, x:x + w],
                                                                                format="bgra"),
                                                format="yuv420p", interpolation=_interpolation(), threads=1)
            py, pu, pv = plane_arrays(part)
            dst[0][y:y + h, x:x + w] = py
            dst[1][y // 2:(y + h) // 2, x // 2:(x + w) // 2] = pu
            dst[2][y // 2:(y + h) // 2, x // 2:(x + w) // 2] = pv
            shadow[y:y + h, x:x + w] = cur[y:y + h, x:x + w]
            self.pixels_converted += w * h
        self.frames_partial += 1
        self._last = frame
        return frame

    def _context(self, w: int, h: int) -> Any:
        ctx = self._contexts.pop((w, h), None)
        if ctx is None:
            from av.video.reformatter import VideoReformatter

            ctx = VideoReformatter()
            if len(self._contexts) >= CONTEXTS:
                self._contexts.popitem(last=False)
        self._contexts[(w, h)] = ctx
        return ctx


def _interpolation() -> str:
    from tray.capture.yuv import SWS_INTERPOLATION

    return SWS_INTERPOLATION


def _clip(r: Rect, width: int, height: int) -> Rect | None:
    """``r`` clipped to the frame and grown to even corners; None when nothing is left."""
    x, y, w, h = r
    x0, y0 = max(0, x) & ~1, max(0, y) & ~1
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, min(width, x1 + (x1 & 1)) - x0, min(height, y1 + (y1 & 1)) - y0


def _merge(rects: list[Rect]) -> list[Rect]:
    """``rects`` with overlapping ones replaced by their bounding box where it is no bigger than the two (each pixel
    is compared once: a client redrawing one bounding box per frame reports overlapping boxes frame after frame)."""
    out: list[Rect] = []
    for r in rects:
        while True:
            for i, o in enumerate(out):
                b = _bbox((r, o))
                if b[2] * b[3] <= r[2] * r[3] + o[2] * o[3] and _overlap(r, o):
                    r = b
                    del out[i]
                    break
            else:
                break
        out.append(r)
    return out


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _bbox(rects: Sequence[Rect]) -> Rect:
    x0 = min(r[0] for r in rects)
    y0 = min(r[1] for r in rects)
    x1 = max(r[0] + r[2] for r in rects)
    y1 = max(r[1] + r[3] for r in rects)
    return x0, y0, x1 - x0, y1 - y0
