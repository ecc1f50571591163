from __future__ import annotations

import math
from typing import Any

from PIL import Image, ImageDraw

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, ToolKind, normalized_rect, rgba
from tray.ui.annotator.tools.shapes import CornerHandles, stroke_box


class EllipseTool(CornerHandles, AnnotationTool):
    """Ellipse inscribed in the dragged rectangle; stroke centred on it."""

    kind = ToolKind.ELLIPSE
    label = "Ellipse"

    def is_valid(self) -> bool:
        l, t, r, b = normalized_rect(self.start, self.end) if self.points else (0, 0, 0, 0)
        return r - l >= 1 and b - t >= 1

    def hit_test(self, x: float, y: float, tolerance: float = 4.0) -> bool:
        l, t, r, b = normalized_rect(self.start, self.end)
        cx, cy, rx, ry = (l + r) / 2, (t + b) / 2, (r - l) / 2, (b - t) / 2
        if rx <= 0 or ry <= 0:
            return False
        # distance from the outline, approximated along the ray from the centre
        angle = math.atan2((y - cy) / ry, (x - cx) / rx)
        ox, oy = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
        return math.dist((x, y), (ox, oy)) <= self.style.width / 2 + tolerance

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        l, t, r, b = normalized_rect(self.start, self.end)
        return [canvas.create_oval(l * s, t * s, r * s, b * s, outline=self.style.color,
                                   width=max(1.0, self.style.width * s), tags=(view.tag,))]

    def render(self, image: Image.Image) -> None:
        ImageDraw.Draw(image).ellipse(stroke_box(self.start, self.end, self.style.width),
                                      outline=rgba(self.style), width=self.style.width)
