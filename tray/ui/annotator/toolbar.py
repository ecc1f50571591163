"""The annotator's toolbar: the tool buttons, the palette, the stroke width, undo/redo and copy / save / upload.

:class:`AnnotatorToolbar` builds the two rows above the canvas and only reports what the user did (``on_tool``,
``on_color``, ``on_width``, ``on_undo``...); the window decides and then tells the toolbar what to show
(:meth:`~AnnotatorToolbar.show_tool`, :meth:`~AnnotatorToolbar.show_color`, :meth:`~AnnotatorToolbar.show_width`).
The tool names, icons and one-letter keys live here too (the README's annotator section uses the same names).

Threading: Tk thread only. Call :meth:`~AnnotatorToolbar.release` on that thread when the window closes (Tk
variables finalised by the garbage collector on another thread would call into Tcl from there).
"""

from __future__ import annotations

from typing import Any, Callable

from tray.ui.annotator.tools import TOOL_CLASSES, ToolKind

PALETTE = ("#e53935", "#fb8c00", "#fdd835", "#43a047", "#1e88e5", "#8e24aa", "#212121", "#ffffff")
TOOL_ORDER = (ToolKind.SELECT, ToolKind.ARROW, ToolKind.LINE, ToolKind.RECTANGLE, ToolKind.ELLIPSE, ToolKind.PEN,
              ToolKind.HIGHLIGHTER, ToolKind.TEXT, ToolKind.PIXELATE, ToolKind.COUNTER, ToolKind.ERASER)
#: one letter each; the region selector (a window of its own, before the annotator) uses C, W, Space and Return
TOOL_KEYS = {"v": ToolKind.SELECT, "a": ToolKind.ARROW, "l": ToolKind.LINE, "r": ToolKind.RECTANGLE,
             "e": ToolKind.ELLIPSE, "p": ToolKind.PEN, "h": ToolKind.HIGHLIGHTER, "t": ToolKind.TEXT,
             "b": ToolKind.PIXELATE, "n": ToolKind.COUNTER, "x": ToolKind.ERASER}
TOOL_ICONS = {ToolKind.SELECT: "\u2196", ToolKind.ARROW: "\u2197", ToolKind.LINE: "\u2571",
              ToolKind.RECTANGLE: "\u25ad", ToolKind.ELLIPSE: "\u25ef", ToolKind.PEN: "\u270e",
              ToolKind.HIGHLIGHTER: "\u2590", ToolKind.TEXT: "T", ToolKind.PIXELATE: "\u2592",
              ToolKind.COUNTER: "\u2460", ToolKind.ERASER: "\u232b"}
#: the toolbar says what each tool class calls itself (the README's annotator section uses the same names)
TOOL_LABELS = {kind: f"{TOOL_ICONS[kind]} {TOOL_CLASSES[kind].label}" for kind in TOOL_ORDER}
MAX_WIDTH = 24


class AnnotatorToolbar:
    """Built into ``window`` (packed at the top, before the canvas). ``copy_enabled``/``upload_enabled`` False:
    that button is disabled. ``tool_buttons`` (by :class:`ToolKind`), ``swatches`` (by colour) and the buttons are public so
    that tests can click them."""

    def __init__(self, tk: Any, window: Any, *, tool: ToolKind, color: str, width: int,
                 on_tool: Callable[[ToolKind], None], on_color: Callable[[str], None],
                 on_width: Callable[[int], None], on_undo: Callable[[], None], on_redo: Callable[[], None],
                 on_copy: Callable[[], None], on_save: Callable[[], None], on_upload: Callable[[], None],
                 copy_enabled: bool = True, upload_enabled: bool = True,
                 on_pin: Callable[[], None] | None = None) -> None:
        self._width = width
        self._on_width = on_width
        font = ("DejaVu Sans", -12)
        row1 = tk.Frame(window, padx=4, pady=3)
        row1.pack(side="top", fill="x")
        self._tool_var = tk.StringVar(window, value=tool.key)
        self.tool_buttons: dict[ToolKind, Any] = {}
        for kind in TOOL_ORDER:
            b = tk.Radiobutton(row1, text=TOOL_LABELS[kind], value=kind.key, variable=self._tool_var,
                               indicatoron=False, font=font, padx=6, pady=3, selectcolor="#cfe3ff",
                               command=lambda k=kind: on_tool(k))
            b.pack(side="left", padx=1)
            self.tool_buttons[kind] = b

        row2 = tk.Frame(window, padx=4, pady=3)
        row2.pack(side="top", fill="x")
        self._color_var = tk.StringVar(window, value=color)
        self.swatches: dict[str, Any] = {}
        for colour in PALETTE:
            sw = tk.Radiobutton(row2, value=colour, variable=self._color_var, indicatoron=False, width=2,
                                background=colour, activebackground=colour, selectcolor=colour, relief="raised",
                                offrelief="flat", borderwidth=3, command=lambda col=colour: on_color(col))
            sw.pack(side="left", padx=1)
            self.swatches[colour] = sw
        tk.Label(row2, text="  Width", font=font).pack(side="left")
        self._width_var = tk.IntVar(window, value=width)
        self.width_box = tk.Spinbox(row2, from_=1, to=MAX_WIDTH, width=3, textvariable=self._width_var, font=font,
                                    command=lambda: on_width(self._width_var.get()))
        self.width_box.pack(side="left", padx=(2, 10))
        self.width_box.bind("<Return>", lambda e: on_width(self._typed_width()))
        self.undo_button = tk.Button(row2, text="\u21b6 Undo", font=font, command=on_undo)
        self.undo_button.pack(side="left", padx=1)
        self.redo_button = tk.Button(row2, text="\u21b7 Redo", font=font, command=on_redo)
        self.redo_button.pack(side="left", padx=1)
        self.upload_button = tk.Button(row2, text="\u2191 Upload", font=font + ("bold",),
                                       command=on_upload,
                                       background="#2f8cff", foreground="white", activebackground="#1f6fd1",
                                       activeforeground="white")
        self.upload_button.pack(side="right", padx=1)
        self.save_button = tk.Button(row2, text="Save", font=font, command=on_save)
        self.save_button.pack(side="right", padx=1)
        self.copy_button = tk.Button(row2, text="Copy", font=font, command=on_copy)
        self.copy_button.pack(side="right", padx=1)
        self.pin_button = None  # "Pin": only where the caller can pin (on_pin)
        if on_pin is not None:
            self.pin_button = tk.Button(row2, text="Pin", font=font, command=on_pin)
            self.pin_button.pack(side="right", padx=1)
        if not upload_enabled:
            self.upload_button.configure(state="disabled")
        if not copy_enabled:
            self.copy_button.configure(state="disabled")

    def _typed_width(self) -> int:
        """What was typed into the width box; the width shown last when it is not a number."""
        try:
            return int(self.width_box.get())
        except ValueError:
            return self._width

    # -- what the window tells the toolbar to show ------------------------------------------------------------
    def show_tool(self, kind: ToolKind) -> None:
        self._tool_var.set(kind.key)

    def show_color(self, colour: str) -> None:
        self._color_var.set(colour)

    def show_width(self, width: int) -> None:
        self._width = width
        self._width_var.set(width)

    def show_history(self, *, can_undo: bool, can_redo: bool) -> None:
        self.undo_button.configure(state="normal" if can_undo else "disabled")
        self.redo_button.configure(state="normal" if can_redo else "disabled")

    @property
    def shown_tool(self) -> str:
        """The key of the tool button that is selected (e.g. ``"highlighter"``)."""
        return self._tool_var.get()

    @property
    def shown_color(self) -> str:
        """The colour of the swatch that is selected."""
        return self._color_var.get()

    def release(self) -> None:
        """Drop the Tk variables here, on the Tk thread."""
        self._tool_var = self._color_var = self._width_var = None  # type: ignore[assignment]
