from __future__ import annotations

import math
from typing import Any

from PIL import Image, ImageDraw

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, Style, ToolContext, ToolKind, rgba
from tray.ui.annotator.tools.fonts import pil_font, tk_font


def _text_colour(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return "#000000" if (0.299 * r + 0.587 * g + 0.114 * b) > 160 else "#ffffff"


class CounterTool(AnnotationTool):
    """A filled numbered disc (1, 2, 3, ...) centred on the click; dragging moves it before release."""

    kind = ToolKind.COUNTER
    label = "Counter"

    def __init__(self, style: Style | None = None, context: ToolContext | None = None) -> None:
        super().__init__(style, context)
        self.number = context.next_counter if context else 1

    @property
    def radius(self) -> float:
        return 10.0 + 2.0 * self.style.width

    def press(self, x: float, y: float) -> None:
        self.points = [(float(x), float(y))]

    def move(self, x: float, y: float) -> None:
        self.points = [(float(x), float(y))]

    def is_valid(self) -> bool:
        return bool(self.points)

    def bbox(self) -> tuple[float, float, float, float]:
        (x, y), r = self.start, self.radius
        return (x - r, y - r, x + r, y + r)

    def hit_test(self, x: float, y: float, tolerance: float = 4.0) -> bool:
        return math.dist(self.start, (x, y)) <= self.radius + tolerance

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        (x, y), r = self.start, self.radius * s
        x, y = x * s, y * s
        return [
            canvas.create_oval(x - r, y - r, x + r, y + r, fill=self.style.color, outline="", tags=(view.tag,)),
            canvas.create_text(x, y, text=str(self.number), fill=_text_colour(self.style.rgb),
                               font=tk_font(self.radius * 1.1 * s, bold=True), tags=(view.tag,)),
        ]

    def render(self, image: Image.Image) -> None:
        d = ImageDraw.Draw(image)
        d.ellipse(self.bbox(), fill=rgba(self.style))
        fg = _text_colour(self.style.rgb)
        d.text(self.start, str(self.number), fill=fg, anchor="mm", font=pil_font(int(self.radius * 1.1), bold=True))

    def _extra_dict(self) -> dict[str, Any]:
        return {"number": self.number}

    def _load_extra(self, data: dict[str, Any]) -> None:
        self.number = int(data.get("number", 1))
