from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, ToolKind, normalized_rect, rgba
from tray.ui.annotator.tools.shapes import CornerHandles, stroke_box


class RectangleTool(CornerHandles, AnnotationTool):
    """Outline rectangle; the stroke is centred on the dragged edges."""

    kind = ToolKind.RECTANGLE
    label = "Rectangle"

    def is_valid(self) -> bool:
        l, t, r, b = normalized_rect(self.start, self.end) if self.points else (0, 0, 0, 0)
        return r - l >= 1 and b - t >= 1

    def hit_test(self, x: float, y: float, tolerance: float = 4.0) -> bool:
        l, t, r, b = normalized_rect(self.start, self.end)
        reach = self.style.width / 2 + tolerance
        inside_outer = l - reach <= x <= r + reach and t - reach <= y <= b + reach
        inside_inner = l + reach < x < r - reach and t + reach < y < b - reach
        return inside_outer and not inside_inner

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        l, t, r, b = normalized_rect(self.start, self.end)
        return [canvas.create_rectangle(l * s, t * s, r * s, b * s, outline=self.style.color,
                                        width=max(1.0, self.style.width * s), tags=(view.tag,))]

    def render(self, image: Image.Image) -> None:
        ImageDraw.Draw(image).rectangle(stroke_box(self.start, self.end, self.style.width),
                                        outline=rgba(self.style), width=self.style.width)
