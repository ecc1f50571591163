"""Shared drawing for the two-point shape tools (line, arrow, rectangle, ellipse)."""

from __future__ import annotations

import math

from tray.ui.annotator.tools.base import Point


def arrow_geometry(start: Point, end: Point, width: int) -> tuple[Point, list[Point]]:
    """Return (shaft_end, head_triangle[tip, left, right]) for an arrow from ``start`` to ``end``.

    The head is ``4*width + 8`` long and ``2*(2*width + 4)`` wide, shrunk to the arrow's length for short arrows;
    the shaft stops at the base of the head so a wide shaft never pokes through the tip.
    """
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return end, [end, end, end]
    head_len = min(4.0 * width + 8.0, length)
    half = (2.0 * width + 4.0) * head_len / (4.0 * width + 8.0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    bx, by = x1 - ux * head_len, y1 - uy * head_len  # base centre of the head
    px, py = -uy, ux  # unit perpendicular
    left = (bx + px * half, by + py * half)
    right = (bx - px * half, by - py * half)
    # stop the shaft a little inside the head so the joint has no gap
    shaft_end = (bx + ux * min(head_len / 3, 2.0), by + uy * min(head_len / 3, 2.0))
    return shaft_end, [(x1, y1), left, right]


def stroke_box(a: Point, b: Point, width: int) -> tuple[float, float, float, float]:
    """Pillow box (inclusive corners) whose inward stroke of ``width`` is centred on the rectangle a-b.

    Tk centres outlines on the coordinates; Pillow draws them inward from an inclusive box. Each edge covers
    ``width`` pixel columns starting at ``floor(edge - width/2)``.
    """
    def lo(v: float) -> int:
        return math.floor(v - width / 2)

    l, t = min(a[0], b[0]), min(a[1], b[1])
    r, b_ = max(a[0], b[0]), max(a[1], b[1])
    return (lo(l), lo(t), lo(r) + width - 1, lo(b_) + width - 1)
