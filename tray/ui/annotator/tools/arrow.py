from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, ToolKind, draw_round_caps, rgba, scaled
from tray.ui.annotator.tools.shapes import EndPointHandles, arrow_geometry


class ArrowTool(EndPointHandles, AnnotationTool):
    """A line from the press point with a filled head at the release point."""

    kind = ToolKind.ARROW
    label = "Arrow"

    def geometry(self):
        return arrow_geometry(self.start, self.end, self.style.width)

    def bbox(self) -> tuple[float, float, float, float]:
        _, head = self.geometry()
        pts = [self.start, *head]
        h = self.style.width / 2
        return (min(p[0] for p in pts) - h, min(p[1] for p in pts) - h,
                max(p[0] for p in pts) + h, max(p[1] for p in pts) + h)

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        shaft_end, head = self.geometry()
        return [
            canvas.create_line(*scaled([self.start, shaft_end], s), fill=self.style.color,
                               width=max(1.0, self.style.width * s), capstyle="round", tags=(view.tag,)),
            canvas.create_polygon(*scaled(head, s), fill=self.style.color, outline=self.style.color,
                                  tags=(view.tag,)),
        ]

    def render(self, image: Image.Image) -> None:
        d = ImageDraw.Draw(image)
        fill = rgba(self.style)
        shaft_end, head = self.geometry()
        d.line([self.start, shaft_end], fill=fill, width=self.style.width)
        draw_round_caps(d, [self.start], self.style.width, fill)
        d.polygon(head, fill=fill, outline=fill)
