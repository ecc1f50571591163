from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, ToolKind, draw_round_caps, rgba, scaled
from tray.ui.annotator.tools.shapes import EndPointHandles


class LineTool(EndPointHandles, AnnotationTool):
    kind = ToolKind.LINE
    label = "Line"

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        return [canvas.create_line(*scaled([self.start, self.end], s), fill=self.style.color,
                                   width=max(1.0, self.style.width * s), capstyle="round", tags=(view.tag,))]

    def render(self, image: Image.Image) -> None:
        d = ImageDraw.Draw(image)
        fill = rgba(self.style)
        d.line([self.start, self.end], fill=fill, width=self.style.width)
        draw_round_caps(d, [self.start, self.end], self.style.width, fill)
