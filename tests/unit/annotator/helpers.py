"""Shared helpers for the annotator unit tests (no display needed)."""

from __future__ import annotations

import random

from PIL import Image

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import AnnotationTool, Style, ToolKind, create_tool

RED = (255, 0, 0)
WHITE = (255, 255, 255)


def white(w: int = 120, h: int = 100) -> Image.Image:
    return Image.new("RGB", (w, h), WHITE)


def noise(w: int, h: int, seed: int = 7) -> Image.Image:
    rnd = random.Random(seed)
    return Image.frombytes("RGB", (w, h), bytes(rnd.randrange(256) for _ in range(w * h * 3)))


def gesture(doc: AnnotationDocument, kind: ToolKind, points: list[tuple[float, float]], *,
            color: str = "#ff0000", width: int = 4, text: str | None = None) -> AnnotationTool:
    """Press at the first point, move through the rest, release at the last; commit if valid."""
    tool = create_tool(kind, Style(color, width), doc.context())
    tool.press(*points[0])
    for p in points[1:]:
        tool.move(*p)
    ok = tool.release(*points[-1])
    if text is not None:
        tool.set_text(text)  # type: ignore[attr-defined]
        ok = tool.is_valid()
    if ok:
        doc.commit(tool)
    return tool


def px(img: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    return img.getpixel((x, y))[:3]


def is_red(c: tuple[int, int, int]) -> bool:
    return c[0] > 200 and c[1] < 60 and c[2] < 60


def pixels(img: Image.Image) -> list:
    """All pixel tuples (Pillow >= 12 renamed getdata)."""
    getter = getattr(img, "get_flattened_data", None) or img.getdata
    return list(getter())
