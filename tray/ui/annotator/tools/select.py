"""The select tool's entry in the tool set. It draws nothing and adds nothing: the window's selection
(``tray/ui/annotator/selection.py``) selects, moves, resizes and deletes the annotations already drawn, and a
double-click edits a text. A gesture of this class never changes the document by itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image

from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, ToolKind

if TYPE_CHECKING:  # pragma: no cover
    from tray.ui.annotator.document import AnnotationDocument


class SelectTool(AnnotationTool):
    kind = ToolKind.SELECT
    label = "Select"
    edits_document = True

    def is_valid(self) -> bool:
        return False

    def apply(self, document: "AnnotationDocument") -> bool:
        return False

    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        return []

    def render(self, image: Image.Image) -> None:
        """Nothing: selecting leaves no mark in the image."""
