"""The annotator window: a Tk canvas over the screenshot, a toolbar, palette, stroke width, undo/redo and the
copy / save / upload actions.

Threading: Tk thread only. The outside world is reached only through the callbacks, which run synchronously on the
Tk thread and receive the exported PNG bytes; anything slow (upload, clipboard helpers that block) must be handed
to another thread by the callee, which reports back with ``dispatcher.post(lambda: window.set_status(...))``.

Coordinates: the canvas may show the image scaled (``display_scale``, e.g. 0.5 for a 2x HiDPI capture or to fit a
small screen); tools always receive image pixels and export always uses the image's native resolution.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import AnnotationTool, Style, ToolKind, create_tool
from tray.ui.annotator.tools.fonts import tk_font
from tray.ui.annotator.tools.text import TextTool

log = logging.getLogger(__name__)

PALETTE = ("#e53935", "#fb8c00", "#fdd835", "#43a047", "#1e88e5", "#8e24aa", "#212121", "#ffffff")
TOOL_ORDER = (ToolKind.ARROW, ToolKind.LINE, ToolKind.RECTANGLE, ToolKind.ELLIPSE, ToolKind.PEN,
              ToolKind.HIGHLIGHTER, ToolKind.TEXT, ToolKind.PIXELATE, ToolKind.COUNTER, ToolKind.ERASER)
TOOL_KEYS = {"a": ToolKind.ARROW, "l": ToolKind.LINE, "r": ToolKind.RECTANGLE, "e": ToolKind.ELLIPSE,
             "p": ToolKind.PEN, "h": ToolKind.HIGHLIGHTER, "t": ToolKind.TEXT, "b": ToolKind.PIXELATE,
             "n": ToolKind.COUNTER, "x": ToolKind.ERASER}
TOOL_LABELS = {ToolKind.ARROW: "\u2197 Arrow", ToolKind.LINE: "\u2571 Line", ToolKind.RECTANGLE: "\u25ad Rect",
               ToolKind.ELLIPSE: "\u25ef Ellipse", ToolKind.PEN: "\u270e Pen", ToolKind.HIGHLIGHTER: "\u2590 Marker",
               ToolKind.TEXT: "T Text", ToolKind.PIXELATE: "\u2592 Blur", ToolKind.COUNTER: "\u2460 Counter",
               ToolKind.ERASER: "\u232b Eraser"}

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
    ``on_upload`` (Upload button / Ctrl+U), ``on_save`` (Ctrl+S; without it a file dialog asks where),
    ``on_copy`` (Ctrl+C). ``on_close()`` runs once when the window goes away.
    """

    def __init__(self, root: Any, image: Image.Image, on_upload: PngCallback | None = None,
                 on_save: PngCallback | None = None, on_copy: PngCallback | None = None, *,
                 display_scale: float | None = None, on_close: Callable[[], Any] | None = None,
                 title: str = "Snaplark \u2014 annotate") -> None:
        import tkinter as tk

        self._tk = tk
        self.root = root
        self.on_upload, self.on_save, self.on_copy, self.on_close = on_upload, on_save, on_copy, on_close
        self.document = AnnotationDocument(image)
        self.tool_kind = ToolKind.ARROW
        self.style = Style(PALETTE[0], 4)
        self._active: AnnotationTool | None = None
        self._text_entry: Any = None
        self._closed = False

        self.window = win = tk.Toplevel(root)
        win.title(title)
        win.protocol("WM_DELETE_WINDOW", self.close)
        iw, ih = self.document.size
        if display_scale is None:
            sw, sh = win.winfo_screenwidth(), win.winfo_screenheight()
            display_scale = min(1.0, (sw * 0.95) / iw, (sh * 0.95 - 110) / ih)
        self.scale = max(0.05, float(display_scale))
        cw, ch = max(1, round(iw * self.scale)), max(1, round(ih * self.scale))

        self._build_toolbar()
        self.canvas = c = tk.Canvas(win, width=cw, height=ch, highlightthickness=0, borderwidth=0,
                                    background="#2b2b2b", cursor="crosshair")
        c.pack(side="top")
        self.status = tk.Label(win, anchor="w", font=("DejaVu Sans", -12), padx=8, background="#ececec")
        self.status.pack(side="bottom", fill="x")

        shown = self.document.base if self.scale == 1.0 else self.document.base.resize(
            (cw, ch), Image.Resampling.LANCZOS)
        from PIL import ImageTk

        self._base_photo = ImageTk.PhotoImage(shown, master=win)
        c.create_image(0, 0, image=self._base_photo, anchor="nw", tags=("base",))
        self._items_view = _View(self.scale, "annotation", self.document)
        self._preview_view = _View(self.scale, "preview", self.document)

        c.bind("<ButtonPress-1>", self._on_press)
        c.bind("<B1-Motion>", self._on_drag)
        c.bind("<ButtonRelease-1>", self._on_release)
        for seq, fn in {
            "<Control-z>": self.undo, "<Control-Z>": self.redo, "<Control-Shift-z>": self.redo,
            "<Control-y>": self.redo, "<Control-c>": self.copy, "<Control-s>": self.save,
            "<Control-u>": self.upload, "<Control-w>": self.close, "<Escape>": self._on_escape,
        }.items():
            win.bind(seq, lambda e, fn=fn: (fn(), "break")[1])
        win.bind("<KeyPress>", self._on_key)
        win.bind("<Destroy>", self._on_destroy, add="+")
        self.document.subscribe(self._redraw_items)
        self._redraw_items()
        win.update_idletasks()
        win.lift()
        win.focus_force()

    # -- toolbar -----------------------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        tk = self._tk
        win = self.window
        font = ("DejaVu Sans", -12)
        row1 = tk.Frame(win, padx=4, pady=3)
        row1.pack(side="top", fill="x")
        self._tool_var = tk.StringVar(win, value=self.tool_kind.key)
        self.tool_buttons: dict[ToolKind, Any] = {}
        for kind in TOOL_ORDER:
            b = tk.Radiobutton(row1, text=TOOL_LABELS[kind], value=kind.key, variable=self._tool_var,
                               indicatoron=False, font=font, padx=6, pady=3, selectcolor="#cfe3ff",
                               command=lambda k=kind: self.select_tool(k))
            b.pack(side="left", padx=1)
            self.tool_buttons[kind] = b

        row2 = tk.Frame(win, padx=4, pady=3)
        row2.pack(side="top", fill="x")
        self._color_var = tk.StringVar(win, value=self.style.color)
        self.swatches: dict[str, Any] = {}
        for colour in PALETTE:
            sw = tk.Radiobutton(row2, value=colour, variable=self._color_var, indicatoron=False, width=2,
                                background=colour, activebackground=colour, selectcolor=colour, relief="raised",
                                offrelief="flat", borderwidth=3, command=lambda col=colour: self.set_color(col))
            sw.pack(side="left", padx=1)
            self.swatches[colour] = sw
        tk.Label(row2, text="  Width", font=font).pack(side="left")
        self._width_var = tk.IntVar(win, value=self.style.width)
        self.width_box = tk.Spinbox(row2, from_=1, to=24, width=3, textvariable=self._width_var, font=font,
                                    command=lambda: self.set_width(self._width_var.get()))
        self.width_box.pack(side="left", padx=(2, 10))
        self.width_box.bind("<Return>", lambda e: self.set_width(self._safe_width()))
        self.undo_button = tk.Button(row2, text="\u21b6 Undo", font=font, command=self.undo)
        self.undo_button.pack(side="left", padx=1)
        self.redo_button = tk.Button(row2, text="\u21b7 Redo", font=font, command=self.redo)
        self.redo_button.pack(side="left", padx=1)
        self.upload_button = tk.Button(row2, text="\u2191 Upload", font=font + ("bold",), command=self.upload,
                                       background="#2f8cff", foreground="white", activebackground="#1f6fd1",
                                       activeforeground="white")
        self.upload_button.pack(side="right", padx=1)
        self.save_button = tk.Button(row2, text="Save", font=font, command=self.save)
        self.save_button.pack(side="right", padx=1)
        self.copy_button = tk.Button(row2, text="Copy", font=font, command=self.copy)
        self.copy_button.pack(side="right", padx=1)
        if self.on_upload is None:
            self.upload_button.configure(state="disabled")
        if self.on_copy is None:
            self.copy_button.configure(state="disabled")

    def _safe_width(self) -> int:
        try:
            return int(self.width_box.get())
        except ValueError:
            return self.style.width

    # -- public API ----------------------------------------------------------------------------------------------
    def select_tool(self, kind: ToolKind) -> None:
        self._commit_text()
        self.tool_kind = kind
        self._tool_var.set(kind.key)
        self.canvas.configure(cursor="X_cursor" if kind is ToolKind.ERASER else
                              "xterm" if kind is ToolKind.TEXT else "crosshair")

    def set_color(self, colour: str) -> None:
        self.style = Style(colour, self.style.width)
        self._color_var.set(self.style.color)

    def set_width(self, width: int) -> None:
        self.style = Style(self.style.color, max(1, min(24, int(width))))
        self._width_var.set(self.style.width)

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
        self.set_status("Image copied to the clipboard")

    def save(self) -> None:
        png = self.export_png()
        if self.on_save is not None:
            self.on_save(png)
            return
        from tkinter import filedialog

        path = filedialog.asksaveasfilename(parent=self.window, defaultextension=".png",
                                            filetypes=[("PNG image", "*.png")], title="Save screenshot")
        if path:
            Path(path).write_bytes(png)
            self.set_status(f"Saved {path}")

    def upload(self) -> None:
        if self.on_upload is None:
            return
        self.set_status("Uploading\u2026")
        self.on_upload(self.export_png())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
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
        self._tool_var = self._color_var = self._width_var = None  # type: ignore[assignment]
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
        tool = create_tool(self.tool_kind, Style(self.style.color, self.style.width), self.document.context())
        tool.press(x, y)
        if isinstance(tool, TextTool):
            self._open_text_entry(tool)
            return
        self._active = tool
        self._draw_preview()

    def _on_drag(self, event: Any) -> None:
        if self._active is None:
            return
        self._active.move(*self._image_xy(event))
        self._draw_preview()

    def _on_release(self, event: Any) -> None:
        tool, self._active = self._active, None
        self.canvas.delete("preview")
        self._preview_view.images.clear()
        if tool is None:
            return
        if tool.release(*self._image_xy(event)):
            self.document.commit(tool)

    def _on_escape(self) -> None:
        if self._text_entry is not None:
            self._close_text_entry(commit=False)
        elif self._active is not None:
            self._active = None
            self.canvas.delete("preview")

    def _on_key(self, event: Any) -> None:
        typing = isinstance(event.widget, (self._tk.Entry, self._tk.Spinbox))
        if typing or self._text_entry is not None or event.state & 0x4:  # typing text / Ctrl shortcuts
            return
        kind = TOOL_KEYS.get(event.keysym.lower() if event.keysym else "")
        if kind is not None:
            self.select_tool(kind)

    # -- text entry --------------------------------------------------------------------------------------------
    def _open_text_entry(self, tool: TextTool) -> None:
        tk = self._tk
        x, y = tool.start
        entry = tk.Entry(self.canvas, font=tk_font(tool.font_size * self.scale), foreground=tool.style.color,
                         background="#ffffff", insertbackground=tool.style.color, relief="solid", borderwidth=1)
        self._text_entry = (entry, tool, self.canvas.create_window(x * self.scale, y * self.scale, window=entry,
                                                                   anchor="nw", tags=("text-entry",)))
        entry.bind("<Return>", lambda e: (self._close_text_entry(commit=True), "break")[1])
        entry.bind("<Escape>", lambda e: (self._close_text_entry(commit=False), "break")[1])
        entry.focus_set()

    def _commit_text(self) -> None:
        if self._text_entry is not None:
            self._close_text_entry(commit=True)

    def _close_text_entry(self, *, commit: bool) -> None:
        if self._text_entry is None:
            return
        entry, tool, item = self._text_entry
        self._text_entry = None
        text = entry.get()
        self.canvas.delete(item)
        entry.destroy()
        self.canvas.focus_set()
        if commit:
            tool.set_text(text)
            if tool.is_valid():
                self.document.commit(tool)

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
            item.draw(self.canvas, self._items_view)
        self.canvas.tag_raise("preview")
        self.canvas.tag_raise("text-entry")
        self.undo_button.configure(state="normal" if self.document.can_undo else "disabled")
        self.redo_button.configure(state="normal" if self.document.can_redo else "disabled")
        iw, ih = self.document.size
        n = len(self.document.items)
        self.set_status(f"{iw} \u00d7 {ih} px \u00b7 {n} annotation{'s' if n != 1 else ''} \u00b7 "
                        "Ctrl+Z undo \u00b7 Ctrl+C copy \u00b7 Ctrl+S save \u00b7 Ctrl+U upload")
