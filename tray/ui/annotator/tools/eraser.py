from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PIL import Image

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, ToolKind, scaled

if TYPE_CHECKING:  # pragma: no cover
    from tray.ui.annotator.document import AnnotationDocument


class EraserTool(AnnotationTool):
    """Removes, as one undoable step, the topmost annotation under each point the pointer passed between press and
    release. A click removes one annotation (the one on top, as drawn), never what lies beneath it too; a swipe
    removes each annotation it was the top one somewhere along the way. "Topmost" is judged against the document
    as it was when the gesture began, so lingering over one item does not go on to remove what it covered."""

    kind = ToolKind.ERASER
    label = "Eraser"
    edits_document = True

    def press(self, x: float, y: float) -> None:
        self.points = [(float(x), float(y))]

    def move(self, x: float, y: float) -> None:
        if not self.points:
            self.press(x, y)
            return
        # sample long jumps so a fast swipe cannot skip over a thin item
        (px, py) = self.points[-1]
        steps = int(math.dist((px, py), (x, y)) // 3)
        for i in range(1, steps + 1):
            self.points.append((px + (x - px) * i / (steps + 1), py + (y - py) * i / (steps + 1)))
        self.points.append((float(x), float(y)))

    def is_valid(self) -> bool:
        return bool(self.points)

    def tolerance(self) -> float:
        return max(4.0, self.style.width)

    def targets(self, document: "AnnotationDocument") -> list[AnnotationTool]:
        """The annotations to remove, in document order: the topmost one under each sampled point."""
        hit: set[int] = set()
        for x, y in self.points:
            top = document.item_at(x, y, self.tolerance())
            if top is not None:
                hit.add(id(top))
        return [item for item in document.items if id(item) in hit]

    def apply(self, document: "AnnotationDocument") -> bool:
        targets = self.targets(document)
        if not targets:
            return False
        document.remove_items(targets)
        return True

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        if len(self.points) < 2:
            return []
        return [canvas.create_line(*scaled(self.points, view.scale), fill="#9e9e9e", width=2, dash=(2, 2),
                                   tags=(view.tag,))]

    def render(self, image: Image.Image) -> None:
        """The eraser leaves nothing in the image; it edits the document instead."""
