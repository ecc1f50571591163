"""The question asked before the annotator closes with changes that were not saved, copied or uploaded.

A small window over the annotator, not a nested event loop (``tkinter.messagebox`` would run one inside the key
handler): it grabs the pointer and keyboard for the annotator's application and answers through a callback.
``Return`` (or the focused "Discard" button) discards and closes; ``Esc``, "Keep editing" or the window's close
button goes back to the annotator.

Threading: Tk thread only.
"""

from __future__ import annotations

from typing import Any, Callable

PROMPT_TITLE = "Close the annotator?"


class DiscardPrompt:
    """Ask once; ``on_answer(True)`` = discard and close, ``on_answer(False)`` = keep editing. Shown at once."""

    def __init__(self, parent: Any, unsaved: int, on_answer: Callable[[bool], Any]) -> None:
        import tkinter as tk

        self._on_answer = on_answer
        self._answered = False
        self.window = top = tk.Toplevel(parent)
        top.title(PROMPT_TITLE)
        top.transient(parent)
        top.resizable(False, False)
        top.protocol("WM_DELETE_WINDOW", lambda: self.answer(False))
        font = ("DejaVu Sans", -13)
        things = "1 annotation" if unsaved == 1 else f"{unsaved} annotations"
        text = (f"The changes to this screenshot ({things}) were not saved, copied or uploaded.\n"
                "Discard them and close?")
        self.message = tk.Label(top, font=font, justify="left", padx=16, pady=12, wraplength=380, text=text)
        self.message.pack(side="top", fill="x")
        row = tk.Frame(top, padx=12, pady=10)
        row.pack(side="top", fill="x")
        self.keep_button = tk.Button(row, text="Keep editing", font=font, command=lambda: self.answer(False))
        self.keep_button.pack(side="right", padx=4)
        self.discard_button = tk.Button(row, text="Discard", font=font + ("bold",), default="active",
                                        command=lambda: self.answer(True))
        self.discard_button.pack(side="right", padx=4)
        top.bind("<Return>", lambda e: (self.answer(True), "break")[1])
        top.bind("<KP_Enter>", lambda e: (self.answer(True), "break")[1])
        top.bind("<Escape>", lambda e: (self.answer(False), "break")[1])

        top.update_idletasks()  # centred over the annotator
        px, py = parent.winfo_rootx(), parent.winfo_rooty()
        pw, ph = parent.winfo_width(), parent.winfo_height()
        w, h = top.winfo_reqwidth(), top.winfo_reqheight()
        top.geometry(f"+{max(0, px + (pw - w) // 2)}+{max(0, py + (ph - h) // 3)}")
        top.lift()
        self.discard_button.focus_set()
        self._grab(tries=50)

    def _grab(self, tries: int) -> None:
        """Grab input once the prompt is mapped (a grab on an unmapped window fails), retried every 20 ms."""
        import tkinter as tk

        if self._answered:
            return
        try:
            self.window.grab_set()
        except tk.TclError:  # not viewable yet, or another application holds a grab
            if tries > 0:
                self.window.after(20, lambda: self._grab(tries - 1))
                return
        self.window.focus_force()
        self.discard_button.focus_set()

    @property
    def answered(self) -> bool:
        return self._answered

    def answer(self, discard: bool) -> None:
        if self._answered:
            return
        self._answered = True
        try:
            self.window.grab_release()
            self.window.destroy()
        except Exception:  # noqa: BLE001 - already destroyed with its parent
            pass
        self._on_answer(discard)


class CloseGuard:
    """Whether closing now would lose annotations, and the question when it would.

    The document's changes are counted (every add, remove, edit, undo and redo) and compared with the count when the
    image was last saved, copied or uploaded (:meth:`kept`). Tk thread only."""

    def __init__(self, document: Any) -> None:
        self._document = document
        self._revision = 0  # document changes so far
        self._kept_revision = 0  # the revision last saved, copied or uploaded
        self.prompt: DiscardPrompt | None = None  # while it is open
        document.subscribe(self._count)

    def _count(self) -> None:
        self._revision += 1

    def kept(self) -> None:
        self._kept_revision = self._revision

    @property
    def unsaved(self) -> int:
        """How many annotations closing now would lose: 0 when there are none, or when the image as it is was
        saved, copied or uploaded."""
        return 0 if self._revision == self._kept_revision else len(self._document.items)

    def request(self, parent: Any, close: Callable[[], Any], stay: Callable[[], Any]) -> None:
        """``close()`` now when nothing would be lost, else after the user says so in the prompt (``stay()`` when
        they do not). With the prompt already open, it is raised instead."""
        if self.prompt is not None and not self.prompt.answered:
            self.prompt.window.lift()
            return
        unsaved = self.unsaved
        if not unsaved:
            close()
            return

        def answered(discard: bool) -> None:
            self.prompt = None
            (close if discard else stay)()

        self.prompt = DiscardPrompt(parent, unsaved, answered)

    def cancel(self) -> None:
        """The window closes by itself: an open prompt goes, answered "keep"."""
        if self.prompt is not None:
            self.prompt.answer(False)
