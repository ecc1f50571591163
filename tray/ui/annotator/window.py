"""The annotator window: a Tk canvas over the screenshot, a toolbar, palette, stroke width, undo/redo and the
copy / save / upload actions.

Esc (with no text box open, no drag under way and nothing selected), Ctrl+W and the window's close button close it,
asking first (close_prompt.py) when there are annotations that were never saved, copied or uploaded. Save without an
``on_save`` callback asks for a file with the desktop's save dialog (save_flow.py). The tool, colour and width in
use are remembered for the next window when a ``prefs`` store is given (prefs.py).

Editing what is drawn (selection.py): the Select tool (``V``) selects the topmost annotation under a click and drags
it; with a shape tool a click that draws nothing selects too. Handles resize, Delete removes, and a double-click on a
text opens its box again. Each change is one undo step.

Threading: Tk thread only. The outside world is reached only through the callbacks, which run synchronously on the
Tk thread and receive the exported PNG bytes; anything slow (upload, clipboard helpers that block) must be handed
to another thread by the callee, which reports back with ``dispatcher.post(lambda: window.set_status(...))``.

Coordinates: the canvas may show the image scaled (``display_scale``, e.g. 0.5 for a 2x HiDPI capture or to fit a
small screen); tools always receive image pixels and export always uses the image's native resolution.

Parts: the toolbar (toolbar.py: buttons, palette, width; the tool names and keys), the text tool's box on the
canvas (text_box.py), the selection (selection.py) and the save dialog flow (save_flow.py) are their own classes;
this module is the window, its canvas and what the actions do.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from tray.ui.annotator.close_prompt import CloseGuard
from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.prefs import NOT_REMEMBERED, AnnotatorPrefs, AnnotatorPrefsStore
from tray.ui.annotator.save_chooser import SaveChooser
from tray.ui.annotator.save_flow import SaveFlow
from tray.ui.annotator.selection import Selection
from tray.ui.annotator.text_box import ENTRY_EDGE, TEXT_ENTRY_CHARS, CanvasTextBox, TextEditing
from tray.ui.annotator.toolbar import (
    MAX_WIDTH,
    PALETTE,
    TOOL_ICONS,
    TOOL_KEYS,
    TOOL_LABELS,
    TOOL_ORDER,
    AnnotatorToolbar,
)
from tray.ui.annotator.tools import AnnotationTool, Style, ToolKind, create_tool
from tray.ui.annotator.tools.text import TextTool

#: tools whose plain click (no drag) draws nothing: there, a click on an annotation selects it
CLICK_SELECTS = frozenset({ToolKind.ARROW, ToolKind.LINE, ToolKind.RECTANGLE, ToolKind.ELLIPSE, ToolKind.PIXELATE})

__all__ = ["ENTRY_EDGE", "PALETTE", "TEXT_ENTRY_CHARS", "TOOL_ICONS", "TOOL_KEYS", "TOOL_LABELS", "TOOL_ORDER",
           "AnnotatorWindow", "PngCallback"]

log = logging.getLogger(__name__)

PngCallback = Callable[[bytes], Any]


class _View:
    """The ``CanvasView`` handed to tools: display scale, tag, PhotoImage keep-alive, backdrop source."""

    def __init__(self, scale: float, tag: str, document: AnnotationDocument) -> None:
        self.scale = scale
        self.tag = tag
        self.document = document
        self.images: list[Any] = []

    def keep(self, obj: Any) -> None:
        self.images.append(obj)

    def backdrop(self, item: AnnotationTool) -> Image.Image:
        return self.document.backdrop(item)


class AnnotatorWindow:
    """Mark up a screenshot. Construct on the Tk thread; the window shows itself at once.

    Callbacks receive the PNG bytes of the annotated image at native resolution:
    ``on_upload`` (Upload button / Ctrl+U), ``on_save`` (Ctrl+S; without it the save dialog of ``save_chooser``
    -- default: :func:`choose_save_chooser` -- asks for a file, starting in ``save_dir``, default the captures
    folder, with a name dated by ``clock``), ``on_copy`` (Ctrl+C), ``on_pin`` (Pin / Ctrl+P: the marked-up image
    pinned to the screen, then this window closes). ``on_close()`` runs once when the window goes
    away. ``prefs``: where the tool, colour and width are remembered between windows (None: not remembered).
    """

    def __init__(self, root: Any, image: Image.Image, on_upload: PngCallback | None = None,
                 on_save: PngCallback | None = None, on_copy: PngCallback | None = None, *,
                 display_scale: float | None = None, on_close: Callable[[], Any] | None = None,
                 title: str = "Snaplark \u2014 annotate", prefs: AnnotatorPrefsStore | None = None,
                 save_dir: Path | None = None, save_chooser: SaveChooser | None = None,
                 clock: Callable[[], float] = time.time, on_pin: PngCallback | None = None) -> None:
        import tkinter as tk

        self._tk = tk
        self.root = root
        self.on_upload, self.on_save, self.on_copy, self.on_close = on_upload, on_save, on_copy, on_close
        self.on_pin = on_pin
        self._save = SaveFlow(save_dir=save_dir, chooser=save_chooser, clock=clock, export=self._export_for_save,
                              on_saved=self._kept, status=self.set_status)
        self.document = AnnotationDocument(image)
        self.document.encode_base_ahead()  # Upload/Copy/Save without annotations need not wait for the PNG
        self._prefs = prefs
        start = prefs.load() if prefs is not None else AnnotatorPrefs(ToolKind.ARROW, PALETTE[0], 4)
        self.tool_kind = start.tool
        self._remembered_tool = start.tool
        self.style = Style(start.color, start.width)
        self._active: AnnotationTool | None = None
        self._closed = False
        self._guard = CloseGuard(self.document)  # counts the changes: subscribed before the redraw

        self.window = win = tk.Toplevel(root)
        win.title(title)
        win.protocol("WM_DELETE_WINDOW", self.request_close)
        iw, ih = self.document.size
        if display_scale is None:
            sw, sh = win.winfo_screenwidth(), win.winfo_screenheight()
            display_scale = min(1.0, (sw * 0.95) / iw, (sh * 0.95 - 110) / ih)
        self.scale = max(0.05, float(display_scale))
        cw, ch = max(1, round(iw * self.scale)), max(1, round(ih * self.scale))

        self.toolbar = bar = AnnotatorToolbar(
            tk, win, tool=self.tool_kind, color=self.style.color, width=self.style.width, on_tool=self.select_tool,
            on_color=self.set_color, on_width=self.set_width, on_undo=self.undo, on_redo=self.redo,
            on_copy=self.copy, on_save=self.save, on_upload=self.upload,
            copy_enabled=on_copy is not None, upload_enabled=on_upload is not None,
            on_pin=self.pin if on_pin is not None else None)
        # the toolbar's widgets, as the window's own (tests click them)
        self.tool_buttons, self.swatches, self.width_box = bar.tool_buttons, bar.swatches, bar.width_box
        self.undo_button, self.redo_button = bar.undo_button, bar.redo_button
        self.upload_button, self.save_button, self.copy_button = bar.upload_button, bar.save_button, bar.copy_button
        self.pin_button = bar.pin_button
        self.canvas = c = tk.Canvas(win, width=cw, height=ch, highlightthickness=0, borderwidth=0,
                                    background="#2b2b2b", cursor="crosshair")
        c.pack(side="top")
        self._show_tool_cursor()
        self.status = tk.Label(win, anchor="w", font=("DejaVu Sans", -12), padx=8, background="#ececec")
        self.status.pack(side="bottom", fill="x")

        shown = self.document.base if self.scale == 1.0 else self.document.base.resize(
            (cw, ch), Image.Resampling.LANCZOS)
        from PIL import ImageTk

        self._base_photo = ImageTk.PhotoImage(shown, master=win)
        c.create_image(0, 0, image=self._base_photo, anchor="nw", tags=("base",))
        self._items_view = _View(self.scale, "annotation", self.document)
        self._preview_view = _View(self.scale, "preview", self.document)
        self.selection = Selection(c, self.document, self._preview_view, self._redraw_items)
        self._texts = TextEditing(tk, c, self.scale, self.document, self._redraw_items)

        c.bind("<ButtonPress-1>", self._on_press)
        c.bind("<B1-Motion>", self._on_drag)
        c.bind("<ButtonRelease-1>", self._on_release)
        c.bind("<Double-Button-1>", self._on_double_click)
        for seq, fn in {
            "<Control-z>": self.undo, "<Control-Z>": self.redo, "<Control-Shift-z>": self.redo,
            "<Control-y>": self.redo, "<Control-c>": self.copy, "<Control-s>": self.save,
            "<Control-u>": self.upload, "<Control-p>": self.pin, "<Control-w>": self.request_close,
            "<Escape>": self._on_escape, "<Delete>": self.delete_selected, "<BackSpace>": self.delete_selected,
        }.items():
            win.bind(seq, lambda e, fn=fn: (fn(), "break")[1])
        win.bind("<KeyPress>", self._on_key)
        win.bind("<Destroy>", self._on_destroy, add="+")
        self.document.subscribe(self._redraw_items)
        self._redraw_items()
        win.update_idletasks()
        win.lift()
        win.focus_force()

    # -- public API ----------------------------------------------------------------------------------------------
    def select_tool(self, kind: ToolKind) -> None:
        self._commit_text()
        if kind is not ToolKind.SELECT and kind not in CLICK_SELECTS:
            self.selection.clear()
        self.tool_kind = kind
        self.toolbar.show_tool(kind)
        self._show_tool_cursor()
        if kind not in NOT_REMEMBERED:
            self._remembered_tool = kind
        self._remember()

    def set_color(self, colour: str) -> None:
        self.style = Style(colour, self.style.width)
        self.toolbar.show_color(self.style.color)
        self._remember()

    def set_width(self, width: int) -> None:
        self.style = Style(self.style.color, max(1, min(MAX_WIDTH, int(width))))
        self.toolbar.show_width(self.style.width)
        self._remember()

    def _show_tool_cursor(self) -> None:
        kind = self.tool_kind
        self.canvas.configure(cursor="X_cursor" if kind is ToolKind.ERASER else "xterm" if kind is ToolKind.TEXT
                              else "left_ptr" if kind is ToolKind.SELECT else "crosshair")

    def _remember(self) -> None:
        if self._prefs is not None:
            self._prefs.save(AnnotatorPrefs(self._remembered_tool, self.style.color, self.style.width))

    def export_png(self) -> bytes:
        """The annotated image as PNG at native resolution (an open text box is committed first)."""
        self._commit_text()
        return self.document.export_png()

    def set_status(self, text: str) -> None:
        if not self._closed:
            self.status.configure(text=text)

    def undo(self) -> None:
        self._commit_text()
        if not self.document.undo():
            self.set_status("Nothing to undo")

    def redo(self) -> None:
        if not self.document.redo():
            self.set_status("Nothing to redo")

    def copy(self) -> None:
        if self.on_copy is None:
            return
        self.on_copy(self.export_png())
        self._kept()
        self.set_status("Image copied to the clipboard")

    def save(self) -> None:
        """Ctrl+S: hand the PNG to ``on_save``, or ask for a file with the save dialog and write it there."""
        if self.on_save is not None:
            self.on_save(self.export_png())
            self._kept()
            return
        self._commit_text()
        self._save.ask(self.window)

    def default_save_folder(self) -> Path:
        return self._save.default_folder()

    def _export_for_save(self) -> bytes:
        return self.document.export_png() if self._closed else self.export_png()

    def delete_selected(self) -> None:
        """Delete / BackSpace: remove the selected annotation (not while a text box is open)."""
        if self._text_entry is None and self.selection.delete():
            self.set_status("Annotation deleted \u00b7 Ctrl+Z brings it back")

    def pin(self) -> None:
        if self.on_pin is None:
            return
        png = self.export_png()
        self._kept()
        self.on_pin(png)
        self.close()

    def upload(self) -> None:
        if self.on_upload is None:
            return
        self.set_status("Uploading\u2026")
        png = self.export_png()
        self._kept()
        self.on_upload(png)

    @property
    def unsaved_annotations(self) -> int:
        """How many annotations closing now would lose (0 once the image as it is was saved, copied, uploaded)."""
        return self._guard.unsaved

    def request_close(self) -> None:
        """Esc, Ctrl+W, the window's close button: close, after asking when annotations would be lost."""
        if not self._closed:
            self._commit_text()
            self._guard.request(self.window, self.close, self._stay_open)

    def _stay_open(self) -> None:
        if not self._closed:
            self.window.focus_force()
            self.canvas.focus_set()

    def _kept(self) -> None:
        self._guard.kept()

    def close(self) -> None:
        """Close now, without asking (the app closes the window after an upload, or for a new capture)."""
        if self._closed:
            return
        self._closed = True
        self._guard.cancel()
        try:
            self.window.destroy()
        except self._tk.TclError:  # already gone with its root
            pass
        self._release_tk_objects()
        if self.on_close is not None:
            self.on_close()

    def _on_destroy(self, event: Any) -> None:
        if event.widget is self.window and not self._closed:
            self.close()

    def _release_tk_objects(self) -> None:
        """Drop Tk variables and images here, on the Tk thread. Left to the garbage collector they could be
        finalised on another thread, where tkinter's ``__del__`` calls into Tcl and fails."""
        self.toolbar.release()
        self._base_photo = None
        self._items_view.images.clear()
        self._preview_view.images.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- mouse -------------------------------------------------------------------------------------------------
    def _image_xy(self, event: Any) -> tuple[float, float]:
        iw, ih = self.document.size
        x = min(max(self.canvas.canvasx(event.x) / self.scale, 0.0), float(iw))
        y = min(max(self.canvas.canvasy(event.y) / self.scale, 0.0), float(ih))
        return x, y

    def _on_press(self, event: Any) -> None:
        self._commit_text()
        x, y = self._image_xy(event)
        selecting = self.tool_kind is ToolKind.SELECT
        if self.selection.grab(x, y, inside_box=selecting):  # on the selected annotation or a handle of it
            return
        if selecting:  # the topmost annotation under the click, dragged at once if the button stays down
            self.selection.select(self.selection.item_at(x, y))
            self.selection.grab(x, y)
            return
        self.selection.clear()
        tool = create_tool(self.tool_kind, Style(self.style.color, self.style.width), self.document.context())
        tool.press(x, y)
        if isinstance(tool, TextTool):
            self._texts.open_new(tool)
            return
        self._active = tool
        self._draw_preview()

    def _on_drag(self, event: Any) -> None:
        if self.selection.dragging:
            self.selection.drag_to(*self._image_xy(event))
            return
        if self._active is None:
            return
        self._active.move(*self._image_xy(event))
        self._draw_preview()

    def _on_release(self, event: Any) -> None:
        if self.selection.dragging:
            self.selection.finish(*self._image_xy(event))
            return
        tool, self._active = self._active, None
        self.canvas.delete("preview")
        self._preview_view.images.clear()
        if tool is None:
            return
        if tool.release(*self._image_xy(event)):
            self.document.commit(tool)
        elif self.tool_kind in CLICK_SELECTS:  # a click that drew nothing: select what is under it
            self.selection.select(self.selection.item_at(*tool.start))

    def _on_double_click(self, event: Any) -> None:
        """A double-click on a text annotation opens its box again; anywhere else it is a second press."""
        item = self.selection.item_at(*self._image_xy(event))
        if not isinstance(item, TextTool):
            self._on_press(event)
            return
        self.selection.clear()
        self._texts.open_existing(item)

    def _on_escape(self) -> None:
        """Esc cancels the text box, the drag under way or the selection; with none, it closes the window (asking
        first)."""
        if self._text_entry is not None:
            self._texts.close(commit=False)
        elif self._active is not None:
            self._active = None
            self.canvas.delete("preview")
        elif self.selection.dragging or self.selection.item is not None:
            self.selection.clear()
        else:
            self.request_close()

    def _on_key(self, event: Any) -> None:
        typing = isinstance(event.widget, (self._tk.Entry, self._tk.Spinbox))
        if typing or self._text_entry is not None or event.state & 0x4:  # typing text / Ctrl shortcuts
            return
        kind = TOOL_KEYS.get(event.keysym.lower() if event.keysym else "")
        if kind is not None:
            self.select_tool(kind)

    # -- text entry --------------------------------------------------------------------------------------------
    @property
    def _text_entry(self) -> CanvasTextBox | None:
        return self._texts.box

    def _commit_text(self) -> None:
        self._texts.commit()

    # -- drawing -----------------------------------------------------------------------------------------------
    def _draw_preview(self) -> None:
        self.canvas.delete("preview")
        self._preview_view.images.clear()
        if self._active is not None and self._active.points:
            self._active.draw_preview(self.canvas, self._preview_view)

    def _redraw_items(self) -> None:
        if self._closed:
            return
        self.canvas.delete("annotation")
        self._items_view.images.clear()
        for item in self.document.items:
            if item is not self.selection.hidden and item is not self._texts.edited:
                item.draw(self.canvas, self._items_view)
        self.selection.sync()
        self.canvas.tag_raise("preview")
        self.canvas.tag_raise("text-entry")
        self.toolbar.show_history(can_undo=self.document.can_undo, can_redo=self.document.can_redo)
        iw, ih = self.document.size
        n = len(self.document.items)
        self.set_status(f"{iw} \u00d7 {ih} px \u00b7 {n} annotation{'s' if n != 1 else ''} \u00b7 "
                        "Ctrl+Z undo \u00b7 Ctrl+C copy \u00b7 Ctrl+S save \u00b7 Ctrl+U upload")
