from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, Style, ToolContext, ToolKind, rgba
from tray.ui.annotator.tools.fonts import pil_font, tk_font


class TextTool(AnnotationTool):
    """A line (or lines) of text whose top-left corner is the press point. The window asks for the text."""

    kind = ToolKind.TEXT
    label = "Text"

    def __init__(self, style: Style | None = None, context: ToolContext | None = None) -> None:
        super().__init__(style, context)
        self.text = ""

    @property
    def font_size(self) -> int:
        return 10 + 4 * self.style.width

    def press(self, x: float, y: float) -> None:
        self.points = [(float(x), float(y))]

    def move(self, x: float, y: float) -> None:
        if not self.points:
            self.press(x, y)
        else:
            self.points[0] = (float(x), float(y))

    def set_text(self, text: str) -> None:
        self.text = text.rstrip("\n")

    def is_valid(self) -> bool:
        return bool(self.points) and bool(self.text.strip())

    def bbox(self) -> tuple[float, float, float, float]:
        x, y = self.start
        if not self.text:
            return (x, y, x, y)
        l, t, r, b = ImageDraw.Draw(Image.new("L", (1, 1))).multiline_textbbox(
            (x, y), self.text, font=pil_font(self.font_size))
        return (l, t, r, b)

    def hit_test(self, x: float, y: float, tolerance: float = 4.0) -> bool:
        l, t, r, b = self.bbox()
        return l - tolerance <= x <= r + tolerance and t - tolerance <= y <= b + tolerance

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        x, y = self.start
        return [canvas.create_text(x * s, y * s, text=self.text, anchor="nw", fill=self.style.color,
                                   font=tk_font(self.font_size * s), tags=(view.tag,))]

    def render(self, image: Image.Image) -> None:
        ImageDraw.Draw(image).multiline_text(self.start, self.text, fill=rgba(self.style),
                                             font=pil_font(self.font_size))

    def _extra_dict(self) -> dict[str, Any]:
        return {"text": self.text}

    def _load_extra(self, data: dict[str, Any]) -> None:
        self.text = str(data.get("text", ""))
