from __future__ import annotations

import math
from typing import Any

from PIL import Image, ImageDraw

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, ToolKind, draw_round_caps, rgba, scaled


class PenTool(AnnotationTool):
    """Freehand polyline: every mouse move adds a point (points closer than 1 px are skipped)."""

    kind = ToolKind.PEN
    label = "Pen"

    def press(self, x: float, y: float) -> None:
        self.points = [(float(x), float(y))]

    def move(self, x: float, y: float) -> None:
        if not self.points:
            self.press(x, y)
        elif math.dist(self.points[-1], (x, y)) >= 1.0:
            self.points.append((float(x), float(y)))

    def is_valid(self) -> bool:
        return len(self.points) >= 1  # a click leaves a dot

    def _tk_width(self, view: CanvasView) -> float:
        return max(1.0, self.style.width * view.scale)

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        w = self._tk_width(view)
        if len(self.points) == 1:
            (x, y), r = self.points[0], w / 2
            return [canvas.create_oval(x * s - r, y * s - r, x * s + r, y * s + r, fill=self.style.color,
                                       outline="", tags=(view.tag,))]
        return [canvas.create_line(*scaled(self.points, s), fill=self.style.color, width=w, capstyle="round",
                                   joinstyle="round", smooth=False, tags=(view.tag,))]

    def render(self, image: Image.Image) -> None:
        d = ImageDraw.Draw(image)
        self._paint(d, rgba(self.style), self.style.width)

    def _paint(self, d: ImageDraw.ImageDraw, fill: Any, width: int) -> None:
        if len(self.points) == 1:
            (x, y), r = self.points[0], width / 2
            d.ellipse((x - r, y - r, x + r, y + r), fill=fill)
            return
        d.line(self.points, fill=fill, width=width, joint="curve")
        draw_round_caps(d, self.points, width, fill)
