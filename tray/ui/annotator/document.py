"""The annotation document: a screenshot plus an ordered list of annotations, with undo/redo and PNG export.

Pure Python + Pillow (no Tk), so it is unit-testable without a display. Coordinates are image pixels at the
screenshot's native resolution; the window may display the image scaled (HiDPI), but export always uses the
image's own pixels. Not thread-safe: owned by the UI thread (or by a test).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable

from PIL import Image

from tray.ui.annotator.tools import AnnotationTool, ToolContext, tool_from_dict
from tray.ui.annotator.tools.counter import CounterTool


@dataclass
class Edit:
    """One undoable step: ``op`` is "add", "remove" or "replace"; entries are (index in items, item), ascending.
    "replace" (an annotation moved, resized or its text edited) has one entry, the item before, and ``after``."""

    op: str
    entries: list[tuple[int, AnnotationTool]]
    after: AnnotationTool | None = None


class AnnotationDocument:
    def __init__(self, image: Image.Image) -> None:
        self.base = image.convert("RGB") if image.mode != "RGB" else image.copy()
        self.items: list[AnnotationTool] = []
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []
        self._listeners: list[Callable[[], None]] = []
        self._base_png: Future | None = None  # the PNG of ``base``, encoded ahead (encode_base_ahead)

    # -- observation -----------------------------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        return self.base.size

    def subscribe(self, listener: Callable[[], None]) -> None:
        """``listener()`` is called (synchronously) after every change, undo and redo."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def context(self) -> ToolContext:
        return ToolContext(next_counter=self.next_counter())

    def next_counter(self) -> int:
        numbers = [item.number for item in self.items if isinstance(item, CounterTool)]
        return max(numbers, default=0) + 1

    # -- edits -------------------------------------------------------------------------------------------------
    def add(self, item: AnnotationTool) -> None:
        self._do(Edit("add", [(len(self.items), item)]))

    def remove_items(self, items: list[AnnotationTool]) -> None:
        ids = {id(i) for i in items}
        entries = [(index, item) for index, item in enumerate(self.items) if id(item) in ids]
        if entries:
            self._do(Edit("remove", entries))

    def replace(self, item: AnnotationTool, changed: AnnotationTool) -> None:
        """Put ``changed`` (an edited copy: moved, resized, new text) where ``item`` is, as one undoable step."""
        for index, existing in enumerate(self.items):
            if existing is item:
                self._do(Edit("replace", [(index, item)], after=changed))
                return
        raise ValueError(f"{item!r} is not in the document")

    def commit(self, tool: AnnotationTool) -> bool:
        """Apply a finished tool gesture (adds it, or for the eraser removes what it touched)."""
        return tool.apply(self)

    def item_at(self, x: float, y: float, tolerance: float = 4.0) -> AnnotationTool | None:
        for item in reversed(self.items):
            if item.hit_test(x, y, tolerance):
                return item
        return None

    def clear(self) -> None:
        if self.items:
            self._do(Edit("remove", list(enumerate(self.items))))

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        if not self._undo:
            return False
        edit = self._undo.pop()
        self._apply(edit, reverse=True)
        self._redo.append(edit)
        self._changed()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        edit = self._redo.pop()
        self._apply(edit, reverse=False)
        self._undo.append(edit)
        self._changed()
        return True

    def _do(self, edit: Edit) -> None:
        self._apply(edit, reverse=False)
        self._undo.append(edit)
        self._redo.clear()
        self._changed()

    def _apply(self, edit: Edit, *, reverse: bool) -> None:
        if edit.op == "replace":
            [(index, before)], after = edit.entries, edit.after
            old, new = (after, before) if reverse else (before, after)
            assert self.items[index] is old and new is not None, "document out of sync with its undo history"
            self.items[index] = new
            return
        inserting = (edit.op == "add") != reverse
        if inserting:
            for index, item in edit.entries:  # ascending: each index is final position
                self.items.insert(index, item)
        else:
            for index, item in reversed(edit.entries):
                assert self.items[index] is item, "document out of sync with its undo history"
                del self.items[index]

    # -- rendering ---------------------------------------------------------------------------------------------
    def render(self, upto: int | None = None) -> Image.Image:
        """The screenshot with items ``[0, upto)`` painted in order, at native resolution, RGB."""
        canvas = self.base.copy()
        for item in self.items[: len(self.items) if upto is None else upto]:
            item.render(canvas)
        return canvas

    def backdrop(self, item: AnnotationTool) -> Image.Image:
        """What lies beneath ``item`` (everything before it in order); the base image for a new item."""
        for index, existing in enumerate(self.items):
            if existing is item:
                return self.render(upto=index) if index else self.base
        return self.render() if self.items else self.base

    def encode_base_ahead(self) -> None:
        """Start encoding the screenshot as it is (no annotations) on a worker thread while the user looks at it,
        so that an Upload/Copy/Save with no annotation has its PNG at once. ``base`` is never changed, so the
        worker reads it safely; idempotent."""
        if self._base_png is not None:
            return
        from tray.capture.png_fast import encode_image

        future: Future = Future()
        self._base_png = future

        def run() -> None:
            try:
                future.set_result(encode_image(self.base))
            except BaseException as exc:  # noqa: BLE001 - export_png encodes again on this thread
                future.set_exception(exc)

        threading.Thread(target=run, name="snaplark-png-ahead", daemon=True).start()

    def export_png(self) -> bytes:
        """The rendered screenshot as a lossless PNG (tray.capture.png_fast: what Upload, Copy and Save wait for;
        Pillow at level 3 took ~150 ms at 1920x1080), or the one encoded ahead when there is no annotation."""
        from tray.capture.png_fast import encode_image

        if not self.items and self._base_png is not None:
            try:
                return self._base_png.result(timeout=30)
            except Exception:  # noqa: BLE001 - the worker failed or hangs: encode here
                self._base_png = None
        return encode_image(self.render())

    # -- serialisation -----------------------------------------------------------------------------------------
    def items_to_json(self) -> str:
        return json.dumps({"version": 1, "size": list(self.size), "items": [i.to_dict() for i in self.items]})

    def load_items_json(self, text: str) -> None:
        """Replace the items (one undoable step per load is not kept: history is cleared)."""
        data: dict[str, Any] = json.loads(text)
        self.items = [tool_from_dict(d) for d in data.get("items", [])]
        self._undo.clear()
        self._redo.clear()
        self._changed()
