from __future__ import annotations

import math
from typing import Any

from PIL import Image, ImageDraw

from tray.ui.annotator.tools.base import CanvasView, ToolKind, scaled
from tray.ui.annotator.tools.pen import PenTool

HIGHLIGHT_ALPHA = 110  # of 255


class HighlighterTool(PenTool):
    """A wide translucent pen (marker). Its own overlaps do not darken: the stroke is one mask."""

    kind = ToolKind.HIGHLIGHTER
    label = "Highlighter"

    @property
    def stroke_width(self) -> int:
        return max(12, self.style.width * 4)

    def bbox(self) -> tuple[float, float, float, float]:
        h = self.stroke_width / 2
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return (min(xs) - h, min(ys) - h, max(xs) + h, max(ys) + h)

    def hit_test(self, x: float, y: float, tolerance: float = 4.0) -> bool:
        from tray.ui.annotator.tools.base import distance_to_segment

        reach = self.stroke_width / 2 + tolerance
        if len(self.points) == 1:
            return math.dist(self.points[0], (x, y)) <= reach
        return any(distance_to_segment((x, y), a, b) <= reach for a, b in zip(self.points, self.points[1:]))

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        w = max(1.0, self.stroke_width * s)
        pts = self.points if len(self.points) > 1 else self.points * 2
        # Tk has no alpha: a 50% stipple shows the pixels underneath (export uses real alpha).
        return [canvas.create_line(*scaled(pts, s), fill=self.style.color, width=w, capstyle="round",
                                   joinstyle="round", stipple="gray50", tags=(view.tag,))]

    def render(self, image: Image.Image) -> None:
        l, t, r, b = (int(math.floor(v)) for v in self.bbox())
        l, t = max(0, l - 1), max(0, t - 1)
        r, b = min(image.width, r + 2), min(image.height, b + 2)
        if r <= l or b <= t:
            return
        mask = Image.new("L", (r - l, b - t), 0)
        local = PenTool(self.style)
        local.points = [(x - l, y - t) for x, y in self.points]
        local._paint(ImageDraw.Draw(mask), HIGHLIGHT_ALPHA, self.stroke_width)
        layer = Image.new("RGBA", mask.size, (*self.style.rgb, 0))
        layer.putalpha(mask)
        region = image.crop((l, t, r, b)).convert("RGBA")
        region.alpha_composite(layer)
        image.paste(region.convert(image.mode), (l, t))
