"""The interface every annotation tool implements (Flameshot's tool-per-class pattern).

A tool object *is* the annotation it creates: the window makes a fresh tool from the factory on mouse press,
feeds it ``press``/``move``/``release`` in **image pixel coordinates** (native resolution, floats allowed), and
when ``release`` says the result is valid, hands it to the document with ``apply(document)``. Drawing has two
independent back ends that must agree:

* ``draw(canvas, view)`` -- Tk canvas items for on-screen display (possibly scaled by ``view.scale``),
  every item tagged with ``view.tag`` so it can be deleted as a group. Tk thread only.
* ``render(image, backdrop)`` -- paints onto a PIL image at native resolution (export). Pure Pillow, no display.

``to_dict()`` / ``from_dict()`` make an annotation serialisable (JSON-friendly plain data).
"""

from __future__ import annotations

import copy
import enum
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Sequence

from PIL import Image, ImageColor

if TYPE_CHECKING:  # pragma: no cover
    from tray.ui.annotator.document import AnnotationDocument


class ToolKind(enum.Enum):
    """Append-only: never renumber or remove a member (values are persisted)."""

    ARROW = 1
    LINE = 2
    RECTANGLE = 3
    ELLIPSE = 4
    PEN = 5
    HIGHLIGHTER = 6
    TEXT = 7
    PIXELATE = 8  # the blur tool: destroys the pixels under it on export
    COUNTER = 9
    ERASER = 10
    SELECT = 11  # not an annotation: selects, moves, resizes and edits the ones drawn

    @property
    def key(self) -> str:
        return self.name.lower()


Point = tuple[float, float]


@dataclass
class Style:
    color: str = "#e53935"  # any PIL/Tk colour string; stored as #rrggbb
    width: int = 4  # stroke width in image pixels

    def __post_init__(self) -> None:
        r, g, b = ImageColor.getrgb(self.color)[:3]
        self.color = f"#{r:02x}{g:02x}{b:02x}"
        self.width = max(1, int(self.width))

    @property
    def rgb(self) -> tuple[int, int, int]:
        r, g, b = ImageColor.getrgb(self.color)[:3]
        return (r, g, b)


class CanvasView(Protocol):
    """What ``draw`` needs from the window: the display scale, a tag, and a place to keep PhotoImages alive."""

    scale: float  # display pixels per image pixel
    tag: str

    def keep(self, obj: Any) -> None: ...
    def backdrop(self, item: "AnnotationTool") -> Image.Image: ...


@dataclass
class ToolContext:
    """Per-document facts a tool may need while being created (e.g. the next counter number)."""

    next_counter: int = 1


class AnnotationTool(ABC):
    kind: ClassVar[ToolKind]
    label: ClassVar[str] = ""
    #: True for tools that change the document other than by adding themselves (eraser)
    edits_document: ClassVar[bool] = False

    def __init__(self, style: Style | None = None, context: ToolContext | None = None) -> None:
        self.style = style or Style()
        self.points: list[Point] = []

    # -- mouse protocol (image pixel coordinates) ------------------------------------------------------------
    def press(self, x: float, y: float) -> None:
        self.points = [(float(x), float(y)), (float(x), float(y))]

    def move(self, x: float, y: float) -> None:
        if self.points:
            self.points[-1] = (float(x), float(y))

    def release(self, x: float, y: float) -> bool:
        """Finish the gesture. Returns True when the result is worth keeping (e.g. not zero-sized)."""
        self.move(x, y)
        return self.is_valid()

    def is_valid(self) -> bool:
        if len(self.points) < 2:
            return False
        (x0, y0), (x1, y1) = self.points[0], self.points[-1]
        return abs(x1 - x0) >= 1 or abs(y1 - y0) >= 1

    def apply(self, document: "AnnotationDocument") -> bool:
        """Commit to the document (undoable). Default: add this annotation."""
        document.add(self)
        return True

    # -- geometry ------------------------------------------------------------------------------------------------
    @property
    def start(self) -> Point:
        return self.points[0]

    @property
    def end(self) -> Point:
        return self.points[-1]

    def bbox(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in image pixels including the stroke."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        h = self.style.width / 2
        return (min(xs) - h, min(ys) - h, max(xs) + h, max(ys) + h)

    def hit_test(self, x: float, y: float, tolerance: float = 4.0) -> bool:
        """True when (x, y) touches this annotation (used by the eraser). Default: near the polyline."""
        reach = self.style.width / 2 + tolerance
        pts = self.points
        if len(pts) == 1:
            return math.dist(pts[0], (x, y)) <= reach
        return any(distance_to_segment((x, y), a, b) <= reach for a, b in zip(pts, pts[1:]))

    # -- editing after drawing (the select tool) -----------------------------------------------------------------
    def copy(self) -> "AnnotationTool":
        """An independent copy: an edit replaces the annotation by a changed copy, so that undo puts it back."""
        clone = copy.copy(self)
        clone.style = Style(self.style.color, self.style.width)
        clone.points = list(self.points)
        return clone

    def translate(self, dx: float, dy: float) -> None:
        """Move the whole annotation by (dx, dy) image pixels."""
        self.points = [(x + dx, y + dy) for x, y in self.points]

    def handles(self) -> list[Point]:
        """Where the resize handles are (image pixels); none for annotations that can only be moved."""
        return []

    def drag_handle(self, index: int, x: float, y: float) -> None:
        """Put handle ``index`` of :meth:`handles` at (x, y), reshaping the annotation."""
        raise ValueError(f"{type(self).__name__} has no resize handles")

    # -- drawing -------------------------------------------------------------------------------------------------
    @abstractmethod
    def draw(self, canvas: Any, view: CanvasView) -> list[int]:
        """Create Tk canvas items (tagged ``view.tag``); returns their ids. Tk thread only."""

    def draw_preview(self, canvas: Any, view: CanvasView) -> list[int]:
        """What to show while the mouse is still down (default: the same as ``draw``)."""
        return self.draw(canvas, view)

    @abstractmethod
    def render(self, image: Image.Image) -> None:
        """Paint onto ``image`` (RGB, native resolution) in place."""

    # -- serialisation -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind.key,
            "color": self.style.color,
            "width": self.style.width,
            "points": [[round(x, 2), round(y, 2)] for x, y in self.points],
        }
        data.update(self._extra_dict())
        return data

    def _extra_dict(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, data: dict[str, Any]) -> None:
        pass

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AnnotationTool":
        tool = cls(Style(data.get("color", "#e53935"), int(data.get("width", 4))))
        tool.points = [(float(x), float(y)) for x, y in data.get("points", [])]
        tool._load_extra(data)
        return tool

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{type(self).__name__} {self.to_dict()}>"


# -- shared geometry helpers ----------------------------------------------------------------------------------
def distance_to_segment(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return math.dist(p, a)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.dist(p, (ax + t * dx, ay + t * dy))


def normalized_rect(a: Point, b: Point) -> tuple[float, float, float, float]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))


def scaled(points: Sequence[Point], scale: float) -> list[float]:
    flat: list[float] = []
    for x, y in points:
        flat.extend((x * scale, y * scale))
    return flat


def rgba(style: Style, alpha: int = 255) -> tuple[int, int, int, int]:
    return (*style.rgb, alpha)


def draw_round_caps(draw: Any, points: Sequence[Point], width: int, fill: Any) -> None:
    """Pillow draws wide lines with square ends; round caps at both ends match Tk's ``capstyle=round``."""
    if width < 3 or not points:
        return
    r = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
