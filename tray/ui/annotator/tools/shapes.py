"""Shared drawing for the two-point shape tools (line, arrow, rectangle, ellipse), and their resize handles."""

from __future__ import annotations

import math

from tray.ui.annotator.tools.base import Point, normalized_rect


class EndPointHandles:
    """Line and arrow: a handle on each end; dragging one moves that end only."""

    points: list[Point]

    def handles(self) -> list[Point]:
        return [self.points[0], self.points[-1]] if self.points else []

    def drag_handle(self, index: int, x: float, y: float) -> None:
        if index not in (0, 1):
            raise ValueError(f"end point handle {index}: there are two (0 and 1)")
        self.points[0 if index == 0 else -1] = (float(x), float(y))


class CornerHandles:
    """Rectangle, ellipse, blur: a handle on each corner (top-left, top-right, bottom-right, bottom-left); dragging
    one keeps the opposite corner where it is (dragged past it, the shape flips)."""

    points: list[Point]

    def handles(self) -> list[Point]:
        if not self.points:
            return []
        l, t, r, b = normalized_rect(self.points[0], self.points[-1])
        return [(l, t), (r, t), (r, b), (l, b)]

    def drag_handle(self, index: int, x: float, y: float) -> None:
        corners = self.handles()
        if not 0 <= index < len(corners):
            raise ValueError(f"corner handle {index}: there are four (0..3)")
        self.points = [corners[(index + 2) % 4], (float(x), float(y))]


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
