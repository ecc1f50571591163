from __future__ import annotations

import math
from typing import Any

from PIL import Image

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, Style, ToolContext, ToolKind, normalized_rect
from tray.ui.annotator.tools.shapes import CornerHandles

MIN_BLOCK = 8


def pixelate(region: Image.Image, block: int) -> Image.Image:
    """Replace every ``block``x``block`` cell by its mean colour. Irreversible: the cell's pixels are gone."""
    w, h = region.size
    small = region.resize((max(1, math.ceil(w / block)), max(1, math.ceil(h / block))), Image.Resampling.BOX)
    return small.resize((w, h), Image.Resampling.NEAREST)


class PixelateTool(CornerHandles, AnnotationTool):
    """The blur tool: the dragged rectangle is pixelated in the exported image (real pixels, not an overlay).

    Cells are ``block`` image pixels (at least 8, and larger for big areas, so text stays unreadable).
    It pixelates whatever is beneath it at its place in the item order, annotations included.
    """

    kind = ToolKind.PIXELATE
    label = "Blur"

    def __init__(self, style: Style | None = None, context: ToolContext | None = None) -> None:
        super().__init__(style, context)

    def is_valid(self) -> bool:
        if not self.points:
            return False
        l, t, r, b = normalized_rect(self.start, self.end)
        return r - l >= 2 and b - t >= 2

    def box(self, size: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
        l, t, r, b = normalized_rect(self.start, self.end)
        box = (int(math.floor(l)), int(math.floor(t)), int(math.ceil(r)), int(math.ceil(b)))
        if size is not None:
            box = (max(0, box[0]), max(0, box[1]), min(size[0], box[2]), min(size[1], box[3]))
        return box

    @property
    def block(self) -> int:
        l, t, r, b = self.box()
        return max(MIN_BLOCK, self.style.width * 3, int(min(r - l, b - t) / 12))

    def bbox(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self.box())  # type: ignore[return-value]

    def hit_test(self, x: float, y: float, tolerance: float = 4.0) -> bool:
        l, t, r, b = self.box()
        return l - tolerance <= x <= r + tolerance and t - tolerance <= y <= b + tolerance

    def pixelated_patch(self, image: Image.Image) -> tuple[tuple[int, int, int, int], Image.Image] | None:
        box = self.box(image.size)
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            return None
        return box, pixelate(image.crop(box), self.block)

    def draw_preview(self, canvas: Any, view: CanvasView) -> list[int]:
        s = view.scale
        l, t, r, b = normalized_rect(self.start, self.end)
        return [canvas.create_rectangle(l * s, t * s, r * s, b * s, outline="#ffffff", dash=(4, 3),
                                        width=1, tags=(view.tag,)),
                canvas.create_rectangle(l * s + 1, t * s + 1, r * s - 1, b * s - 1, outline="#000000",
                                        dash=(4, 3), width=1, tags=(view.tag,))]

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        from PIL import ImageTk

        patch = self.pixelated_patch(view.backdrop(self))
        if patch is None:
            return []
        (l, t, r, b), img = patch
        s = view.scale
        dw, dh = max(1, round((r - l) * s)), max(1, round((b - t) * s))
        if (dw, dh) != img.size:
            img = img.resize((dw, dh), Image.Resampling.NEAREST)
        photo = ImageTk.PhotoImage(img, master=canvas)
        view.keep(photo)
        return [canvas.create_image(l * s, t * s, image=photo, anchor="nw", tags=(view.tag,))]

    def render(self, image: Image.Image) -> None:
        patch = self.pixelated_patch(image)
        if patch is not None:
            box, img = patch
            image.paste(img, box[:2])
