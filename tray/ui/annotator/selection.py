"""The annotator's selection: the annotation the select tool (or a click on one with a shape tool) picked, its
handles on the canvas, and the drag that moves or resizes it.

A drag works on a copy of the annotation, shown in its place while the button is down (the original is hidden from
the canvas); at release the copy replaces the original in the document as one undoable step
(:meth:`AnnotationDocument.replace`), so the exported PNG is the moved or resized annotation and Ctrl+Z puts it
back. A click that moves nothing changes nothing (no undo step). Delete removes the selected annotation, one undo
step too. Shapes with two points have handles: the two ends of a line or an arrow, the four corners of a rectangle,
an ellipse or a blurred area; the others (pen, highlighter, text, counter) are moved only.

Threading: Tk thread only. Coordinates are image pixels, as the tools use; handles are drawn at the display scale.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import AnnotationTool

HANDLE_HALF = 5  # display pixels: a handle is an 11 x 11 square
GRAB_REACH = HANDLE_HALF + 3  # display pixels from a handle's centre that still take it
PICK_TOLERANCE = 6.0  # display pixels around an annotation's stroke that a click still selects it with
TAG = "selection"
_MOVE = -1  # the drag's handle index when it moves the whole annotation


class Selection:
    """``view``: the window's preview view (its scale and tag; the dragged copy is drawn with it).
    ``on_hidden`` is called when the annotation to leave out of the canvas changes (the window redraws)."""

    def __init__(self, canvas: Any, document: AnnotationDocument, view: Any, on_hidden: Callable[[], None]) -> None:
        self._canvas, self._document, self._view, self._on_hidden = canvas, document, view, on_hidden
        self.item: AnnotationTool | None = None
        self.hidden: AnnotationTool | None = None  # the original while a copy of it is dragged
        self._working: AnnotationTool | None = None
        self._handle = _MOVE
        self._origin = (0.0, 0.0)

    @property
    def dragging(self) -> bool:
        return self._working is not None

    def pick_tolerance(self) -> float:
        return PICK_TOLERANCE / self._view.scale

    def item_at(self, x: float, y: float) -> AnnotationTool | None:
        """The topmost annotation under (x, y), as the eraser judges it."""
        return self._document.item_at(x, y, self.pick_tolerance())

    def select(self, item: AnnotationTool | None) -> None:
        self.item = item
        self.draw()

    def clear(self) -> None:
        self.cancel_drag()
        self.select(None)

    # -- dragging ------------------------------------------------------------------------------------------------
    def handle_at(self, x: float, y: float) -> int | None:
        """The index of the selected annotation's handle at (x, y), or None."""
        if self.item is None:
            return None
        reach = GRAB_REACH / self._view.scale
        for index, (hx, hy) in enumerate(self.item.handles()):
            if abs(hx - x) <= reach and abs(hy - y) <= reach:
                return index
        return None

    def grab(self, x: float, y: float, *, inside_box: bool = False) -> bool:
        """Start resizing (on a handle) or moving (on the annotation; ``inside_box``: anywhere in its box) the
        selected annotation. False when (x, y) is on none of these: the press is someone else's."""
        item = self.item
        if item is None:
            return False
        handle = self.handle_at(x, y)
        if handle is None:
            l, t, r, b = item.bbox()
            reach = self.pick_tolerance()
            in_box = inside_box and l - reach <= x <= r + reach and t - reach <= y <= b + reach
            if not (in_box or item.hit_test(x, y, reach)):
                return False
            handle = _MOVE
        self._handle, self._origin = handle, (x, y)
        self._working = item.copy()
        self.hidden = item
        self._on_hidden()
        self._draw_working()
        return True

    def drag_to(self, x: float, y: float) -> None:
        if self.item is None or self._working is None:
            return
        working = self.item.copy()  # always from the original: no drift over many motion events
        if self._handle == _MOVE:
            working.translate(x - self._origin[0], y - self._origin[1])
        else:
            working.drag_handle(self._handle, x, y)
        self._working = working
        self._draw_working()

    def finish(self, x: float, y: float) -> bool:
        """Release: the dragged copy replaces the annotation (one undo step). False when nothing changed, or a
        resize left a shape of no size (then the annotation stays as it was)."""
        if self._working is None:
            return False
        self.drag_to(x, y)
        item, working = self.item, self._working
        self._end_drag()
        if item is None or working.points == item.points or not working.is_valid():
            self._on_hidden()
            return False
        self.item = working
        self._document.replace(item, working)  # the window redraws: the copy, with its handles
        return True

    def cancel_drag(self) -> None:
        if self._working is not None:
            self._end_drag()
            self._on_hidden()

    def _end_drag(self) -> None:
        self._working, self.hidden = None, None
        self._canvas.delete(self._view.tag)
        self._view.images.clear()

    def delete(self) -> bool:
        """Delete key: remove the selected annotation (one undo step)."""
        item = self.item
        if item is None or self.dragging:
            return False
        self.item = None
        self._document.remove_items([item])
        return True

    # -- drawing -------------------------------------------------------------------------------------------------
    def sync(self) -> None:
        """After the document changed (undo, redo, eraser): forget an annotation that is no longer in it."""
        if self.item is not None and not any(existing is self.item for existing in self._document.items):
            self.cancel_drag()
            self.item = None
        self.draw()

    def _draw_working(self) -> None:
        self._canvas.delete(self._view.tag)
        self._view.images.clear()
        if self._working is not None:
            self._working.draw_preview(self._canvas, self._view)
        self.draw()

    def draw(self) -> None:
        """The dashed box around the selected annotation (or its dragged copy) and its handles."""
        canvas = self._canvas
        canvas.delete(TAG)
        shown = self._working if self._working is not None else self.item
        if shown is None:
            return
        s = self._view.scale
        l, t, r, b = shown.bbox()
        box = (math.floor(l * s) - 2, math.floor(t * s) - 2, math.ceil(r * s) + 2, math.ceil(b * s) + 2)
        canvas.create_rectangle(*box, outline="#ffffff", width=1, tags=(TAG,))
        canvas.create_rectangle(*box, outline="#1e88e5", width=1, dash=(4, 3), tags=(TAG,))
        for hx, hy in shown.handles():
            x, y = hx * s, hy * s
            canvas.create_rectangle(x - HANDLE_HALF, y - HANDLE_HALF, x + HANDLE_HALF, y + HANDLE_HALF,
                                    fill="#ffffff", outline="#1e88e5", width=2, tags=(TAG,))
        canvas.tag_raise(TAG)
