"""The text tool's box on the annotator canvas: a Tk entry where the user clicked, growing with the text.

:class:`TextEditing` is the window's one box at a time: a new text (the text tool's click) or a text annotation
opened again (a double-click on it): committing the latter replaces the annotation by the edited copy in one undo
step (emptied, it is removed), and the annotation is hidden from the canvas while its box is open.

:class:`CanvasTextBox` opens the entry with its text where the annotation's will be, on a background that keeps the
text colour readable and wholly inside the canvas (the pure rules are in ``text_entry.py``), and moves the
:class:`~tray.ui.annotator.tools.text.TextTool` to where the box ended up. Return asks to commit, Esc to cancel,
through ``on_finish(commit)``; the window then calls :meth:`CanvasTextBox.close` and commits the tool's text.

Threading: Tk thread only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from tray.ui.annotator.text_entry import clamp_box, entry_background
from tray.ui.annotator.tools.fonts import tk_font
from tray.ui.annotator.tools.text import TextTool

if TYPE_CHECKING:  # pragma: no cover
    from tray.ui.annotator.document import AnnotationDocument

TEXT_ENTRY_CHARS = 20  # the text box's width when opened, in average characters; it grows with the text
ENTRY_EDGE = "#8a8a8a"  # the text box's 1 px edge: mid grey, seen on light and dark screenshots alike


class CanvasTextBox:
    def __init__(self, tk: Any, canvas: Any, tool: TextTool, scale: float,
                 on_finish: Callable[[bool], None]) -> None:
        self.tool = tool
        self._canvas = canvas
        colour = tool.style.color
        background = entry_background(tool.style.rgb)
        font = tk_font(tool.font_size * scale)

        def measure(text: str) -> int:  # Tcl's ``font measure``: no tkinter Font object to finalise off-thread
            return int(canvas.tk.call("font", "measure", font, text))

        self._entry = entry = tk.Entry(canvas, font=font, foreground=colour, background=background,
                                       insertbackground=colour, insertwidth=2, relief="flat", borderwidth=0,
                                       highlightthickness=1, highlightcolor=ENTRY_EDGE,
                                       highlightbackground=ENTRY_EDGE, selectforeground=background,
                                       selectbackground=colour)
        inset = int(entry.cget("borderwidth")) + int(entry.cget("highlightthickness")) + 1
        min_width = measure("0") * TEXT_ENTRY_CHARS + 2 * inset
        if tool.text:  # a text opened again: a box as wide as it, so that it stays where it is if it can
            min_width = measure(tool.text + "00") + 2 * inset
        height = entry.winfo_reqheight()
        cw, ch = int(canvas.cget("width")), int(canvas.cget("height"))
        x, y = tool.start
        ex, ey, width = clamp_box(x * scale - inset, y * scale - inset, min_width, height, cw, ch)
        tool.move((ex + inset) / scale, (ey + inset) / scale)  # the text goes where it is typed
        self._item = item = canvas.create_window(ex, ey, window=entry, anchor="nw", width=width, height=height,
                                                 tags=("text-entry",))

        def grow(_event: Any = None) -> None:  # wider as the text gets longer, up to the canvas edge
            wanted = max(min_width, measure(entry.get() + "00") + 2 * inset)
            canvas.itemconfigure(item, width=min(wanted, cw - ex))

        entry.bind("<KeyRelease>", grow, add="+")
        if tool.text:  # a text opened again
            entry.insert(0, tool.text)
            entry.icursor("end")
            grow()
        entry.bind("<Return>", lambda e: (on_finish(True), "break")[1])
        entry.bind("<Escape>", lambda e: (on_finish(False), "break")[1])
        entry.focus_set()

    def close(self) -> str:
        """Remove the box from the canvas; returns the text typed."""
        text = self._entry.get()
        self._canvas.delete(self._item)
        self._entry.destroy()
        return text


class TextEditing:
    """The window's text box, if one is open. ``redraw()`` is called when the hidden annotation shows again."""

    def __init__(self, tk: Any, canvas: Any, scale: float, document: "AnnotationDocument",
                 redraw: Callable[[], None]) -> None:
        self._tk, self._canvas, self._scale, self._document, self._redraw = tk, canvas, scale, document, redraw
        self.box: CanvasTextBox | None = None
        self.edited: TextTool | None = None  # the annotation whose box is open again (hidden meanwhile)

    def open_new(self, tool: TextTool) -> None:
        self.box = CanvasTextBox(self._tk, self._canvas, tool, self._scale, lambda commit: self.close(commit=commit))

    def open_existing(self, item: TextTool) -> None:
        self.commit()  # (the text tool's first click of a double-click opened an empty box: it goes)
        self.edited = item
        self._redraw()
        copy = item.copy()
        assert isinstance(copy, TextTool)
        self.open_new(copy)

    def commit(self) -> None:
        if self.box is not None:
            self.close(commit=True)

    def close(self, *, commit: bool) -> None:
        """Commit adds a new text, or replaces the edited one; Esc (``commit`` False) drops what was typed."""
        if self.box is None:
            return
        box, self.box = self.box, None
        edited, self.edited = self.edited, None
        tool, text = box.tool, box.close()
        self._canvas.focus_set()
        if commit:
            tool.set_text(text)
        if edited is None:
            if commit and tool.is_valid():
                self._document.commit(tool)
        elif commit and not tool.is_valid():
            self._document.remove_items([edited])
        elif commit and (tool.text, tool.points) != (edited.text, edited.points):
            self._document.replace(edited, tool)
        else:
            self._redraw()  # unchanged or cancelled: show the text again
