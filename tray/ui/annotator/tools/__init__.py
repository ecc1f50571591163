"""Annotation tools: one small class per tool, created through :func:`create_tool` keyed by :class:`ToolKind`."""

from __future__ import annotations

from typing import Any

from tray.ui.annotator.tools.arrow import ArrowTool
from tray.ui.annotator.tools.base import AnnotationTool, CanvasView, Style, ToolContext, ToolKind
from tray.ui.annotator.tools.counter import CounterTool
from tray.ui.annotator.tools.ellipse import EllipseTool
from tray.ui.annotator.tools.eraser import EraserTool
from tray.ui.annotator.tools.highlighter import HighlighterTool
from tray.ui.annotator.tools.line import LineTool
from tray.ui.annotator.tools.pen import PenTool
from tray.ui.annotator.tools.pixelate import PixelateTool
from tray.ui.annotator.tools.rectangle import RectangleTool
from tray.ui.annotator.tools.select import SelectTool
from tray.ui.annotator.tools.text import TextTool

TOOL_CLASSES: dict[ToolKind, type[AnnotationTool]] = {
    ToolKind.ARROW: ArrowTool,
    ToolKind.LINE: LineTool,
    ToolKind.RECTANGLE: RectangleTool,
    ToolKind.ELLIPSE: EllipseTool,
    ToolKind.PEN: PenTool,
    ToolKind.HIGHLIGHTER: HighlighterTool,
    ToolKind.TEXT: TextTool,
    ToolKind.PIXELATE: PixelateTool,
    ToolKind.COUNTER: CounterTool,
    ToolKind.ERASER: EraserTool,
    ToolKind.SELECT: SelectTool,
}


def create_tool(kind: ToolKind, style: Style | None = None, context: ToolContext | None = None) -> AnnotationTool:
    """Factory: a fresh tool (= a new annotation in the making) of ``kind``."""
    try:
        cls = TOOL_CLASSES[kind]
    except KeyError:
        raise ValueError(f"no tool registered for {kind!r}") from None
    return cls(style, context)


def tool_from_dict(data: dict[str, Any]) -> AnnotationTool:
    """Rebuild an annotation from :meth:`AnnotationTool.to_dict` output."""
    kind_name = str(data.get("kind", "")).upper()
    try:
        kind = ToolKind[kind_name]
    except KeyError:
        raise ValueError(f"unknown annotation kind {data.get('kind')!r}") from None
    return TOOL_CLASSES[kind].from_dict(data)


__all__ = [
    "AnnotationTool", "CanvasView", "Style", "ToolContext", "ToolKind", "TOOL_CLASSES", "create_tool",
    "tool_from_dict", "ArrowTool", "LineTool", "RectangleTool", "EllipseTool", "PenTool", "HighlighterTool",
    "TextTool", "PixelateTool", "CounterTool", "EraserTool", "SelectTool",
]
