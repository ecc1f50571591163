"""The History window: every capture and upload the journal knows (and the captures saved without uploading), with
thumbnails, date, kind, duration/size and state; a search box; the actions of :mod:`tray.ui.history_actions`.

Large histories stay fast: the journal is read in one query (:meth:`UploadHistory.catalog`), the first screenful of
rows is inserted before the window is shown and the rest in batches from the Tk event loop, and thumbnails
(:mod:`tray.thumbnails`) are made on a background thread only for the rows on screen. While the window is open it
reads the journal again every :data:`REFRESH_MS` so uploads in progress count up and finished ones get their link.

Threading: Tk thread only (construct, methods, callbacks); the thumbnail thread only posts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from tray.thumbnails import ThumbnailCache, ThumbnailLoader
from tray.ui.context import TrayContext
from tray.ui.history_actions import SERVER_DELETE_MISSING, HistoryActions
from tray.ui.history_model import HistoryItem, build_items, search

log = logging.getLogger(__name__)

FIRST_ROWS = 60  # inserted before the window shows: more than a screenful
BATCH_ROWS = 1500  # then this many per turn of the event loop
REFRESH_MS = 1500
SEARCH_DELAY_MS = 150
IMAGE_LIMIT = 400  # thumbnails kept as Tk images (the rows near the view); others are loaded again from the cache
BUTTONS = (("copy_link", "Copy link"), ("open_link", "Open link"), ("open_file", "Open file"),
           ("show_folder", "Show in folder"), ("retry", "Retry"), ("reupload", "Upload again"),
           ("save_gif", "Save as GIF"), ("delete_link", "Delete link on server"), ("delete_file", "Delete file…"))


class HistoryWindow:
    """``history``: an :class:`~tray.upload.history.UploadHistory`; ``save_dir()``: the captures folder to list
    too; ``engine()``: the upload engine for retry/upload again (called off the Tk thread; may start one);
    ``progress_of(session_id)``: the engine's live progress of an upload, if it runs it; ``delete_link``: see
    :class:`HistoryActions`. ``on_close`` runs when the window is closed."""

    def __init__(self, ctx: TrayContext, history: Any, *, save_dir: Callable[[], Path], engine: Callable[[], Any],
                 progress_of: Callable[[int], Any] | None = None, thumbnails: ThumbnailCache | None = None,
                 confirm: Callable[[str, str], bool] | None = None, delete_link: Callable[[Any], None] | None = None,
                 on_upload: Callable[[Any], None] | None = None, on_close: Callable[[], None] | None = None,
                 clock: Callable[[], float] | None = None):
        import tkinter as tk
        from tkinter import ttk

        self.ctx = ctx
        self.history = history
        self._save_dir = save_dir
        self._progress_of = progress_of
        self._on_close = on_close
        self._clock = clock  # "expires in …" is measured against it (None: the wall clock)
        self.closed = False
        self.items: list[HistoryItem] = []  # everything, newest first
        self.shown: list[HistoryItem] = []  # what the search leaves, in the tree's order
        self._iid_of: dict[tuple, str] = {}
        self._item_of: dict[str, HistoryItem] = {}
        self._images: dict[tuple, Any] = {}  # key -> PhotoImage (Tk thread only)
        self._no_thumb: set[tuple] = set()
        self._fill_generation = 0
        self._refresh_after: str | None = None

        top = self.top = tk.Toplevel(ctx.root)
        top.title("Snaplark — History")
        top.geometry("980x600")
        top.protocol("WM_DELETE_WINDOW", self.close)
        top.bind("<Destroy>", lambda e: e.widget is top and self._ended(), add="+")  # destroyed from outside
        bar = ttk.Frame(top, padding=(8, 8, 8, 4))
        bar.pack(fill="x")
        ttk.Label(bar, text="Search:").pack(side="left")
        self.search_var = tk.StringVar(top)
        self.search_entry = ttk.Entry(bar, textvariable=self.search_var, width=40)
        self.search_entry.pack(side="left", padx=(4, 8))
        self.count_label = ttk.Label(bar, text="")
        self.count_label.pack(side="left")

        self.status = ttk.Label(top, text="", padding=(8, 0, 8, 8), anchor="w")
        self.status.pack(side="bottom", fill="x")
        buttons = ttk.Frame(top, padding=(8, 6))
        buttons.pack(side="bottom", fill="x")  # packed before the list: a small window shrinks the list, not these
        body = ttk.Frame(top, padding=(8, 0))
        body.pack(fill="both", expand=True)
        style = ttk.Style(top)
        cache = thumbnails or ThumbnailCache.default()
        style.configure("History.Treeview", rowheight=cache.size[1] + 6)
        self.tree = ttk.Treeview(body, columns=("date", "kind", "size", "state"), style="History.Treeview",
                                 selectmode="browse")
        for column, text, width in (("#0", "Capture", 360), ("date", "Date", 140), ("kind", "Kind", 90),
                                    ("size", "Duration / size", 130), ("state", "State", 220)):
            self.tree.heading(column, text=text, anchor="w")
            self.tree.column(column, width=width, anchor="w", stretch=column in ("#0", "state"))
        scroll = ttk.Scrollbar(body, orient="vertical", command=self._yview)
        self.tree.configure(yscrollcommand=lambda lo, hi: (scroll.set(lo, hi), self._want_thumbnails()))
        self.tree.pack(side="left", fill="both", expand=True)
        scroll.pack(side="right", fill="y")

        self.buttons: dict[str, Any] = {}
        for name, text in BUTTONS:
            button = ttk.Button(buttons, text=text, command=lambda n=name: self.run_action(n))
            button.pack(side="left", padx=(0, 4))
            self.buttons[name] = button

        from tkinter import messagebox

        self.actions = HistoryActions(
            ctx, engine=engine, changed=self.refresh, say=self.say, delete_link=delete_link, on_upload=on_upload,
            record_saved=getattr(history, "record_saved", None),
            confirm=confirm or (lambda title, text: messagebox.askyesno(title, text, parent=self.top)))
        if delete_link is None:
            from tray.ui.tooltip import Tooltip

            Tooltip(self.buttons["delete_link"], SERVER_DELETE_MISSING)
        self.loader = ThumbnailLoader(cache, ctx.post, self._thumbnail_ready)
        self.tree.bind("<<TreeviewSelect>>", lambda e: self._update_buttons())
        self.tree.bind("<Double-1>", lambda e: self.run_action("open_file"))
        self._search_after: str | None = None
        self.search_var.trace_add("write", lambda *a: self._search_soon())
        self._filling = False  # the rest of the rows go in once the first screen is on (see _insert)
        self.items = self._read()
        self._populate()
        self.tree.bind("<Map>", lambda e: self._start_filling(), add="+")
        top.after(300, self._start_filling)
        self._refresh_after = top.after(REFRESH_MS, self._periodic)
        self.search_entry.focus_set()

    # ------------------------------------------------------------------ reading
    def _read(self) -> list[HistoryItem]:
        from tray.captures import list_captures

        try:
            catalog = self.history.catalog()
        except Exception as exc:  # noqa: BLE001 - JournalError: say so, list the local files
            self.say(f"The upload journal cannot be read: {exc}")
            catalog = []
        return build_items(catalog, list_captures(self._save_dir()), self._live_progress,
                           self._clock() if self._clock is not None else None)

    def _live_progress(self, session_id: int) -> Any:
        if self._progress_of is None:
            return None
        try:
            return self._progress_of(session_id)
        except Exception:  # noqa: BLE001 - no live progress: the journal's numbers are shown
            return None

    def refresh(self) -> None:
        """Read the journal and the folder again; rows whose state changed are updated in place."""
        if self.closed:
            return
        items = self._read()
        same_rows = [i.key for i in items] == [i.key for i in self.items]
        self.items = items
        if not same_rows:
            self._populate(keep_selection=True)
            return
        self.shown = search(items, self.query)  # the same rows in the same order
        for item in self.shown:
            iid = self._iid_of.get(item.key)
            if iid is not None and self._item_of.get(iid) != item:
                self._item_of[iid] = item
                self.tree.item(iid, text=item.name, values=self._values(item))
        self._update_buttons()

    def _periodic(self) -> None:
        self._refresh_after = None
        if self.closed:
            return
        try:
            self.refresh()
        finally:
            if not self.closed:
                self._refresh_after = self.top.after(REFRESH_MS, self._periodic)

    # ------------------------------------------------------------------ the list
    def _search_soon(self) -> None:
        """Typing in the search box: filter once the typing pauses (each pass reads every row)."""
        if self._search_after is not None:
            self.top.after_cancel(self._search_after)
        self._search_after = self.top.after(SEARCH_DELAY_MS, self._search_now)

    def _search_now(self) -> None:
        self._search_after = None
        self._populate()

    def _start_filling(self) -> None:
        if not self._filling:
            self._filling = True
            self._insert(len(self._item_of), BATCH_ROWS, self._fill_generation)

    def _populate(self, keep_selection: bool = False) -> None:
        selected = self.selected()
        self._fill_generation += 1
        self.tree.delete(*self.tree.get_children())
        self._iid_of.clear()
        self._item_of.clear()
        self.query = self.search_var.get()  # what ``shown`` is filtered by
        self.shown = search(self.items, self.query)
        self.count_label.configure(text=f"{len(self.shown)} of {len(self.items)}")
        self._insert(0, FIRST_ROWS, self._fill_generation)
        if keep_selection and selected is not None and selected.key in self._iid_of:
            self.tree.selection_set(self._iid_of[selected.key])
        self._update_buttons()

    def _insert(self, start: int, count: int, generation: int) -> None:
        if generation != self._fill_generation or self.closed:
            return  # a newer search or refresh started over
        end = min(len(self.shown), start + count)
        tree, images = self.tree, self._images
        for index in range(start, end):
            item = self.shown[index]
            iid = f"r{index}"
            self._iid_of[item.key] = iid
            self._item_of[iid] = item
            image = images.get(item.key)
            tree.insert("", "end", iid=iid, text=item.name, values=self._values(item),
                        **({"image": image} if image is not None else {}))
        if end < len(self.shown) and self._filling:  # before the first screen is on, the next batches wait
            self.top.after(1, lambda: self._insert(end, BATCH_ROWS, generation))
        self._want_thumbnails()

    @staticmethod
    def _values(item: HistoryItem) -> tuple[str, str, str, str]:
        return item.date_text, item.kind_text, item.size_text, item.state_text

    def selected(self) -> HistoryItem | None:
        sel = self.tree.selection()
        return self._item_of.get(sel[0]) if sel else None

    def select(self, item: HistoryItem) -> None:
        iid = self._iid_of[item.key]
        self.tree.selection_set(iid)
        self.tree.see(iid)
        self._update_buttons()

    def _update_buttons(self) -> None:
        for name, ok in self.actions.enabled(self.selected()).items():
            self.buttons[name].state(["!disabled"] if ok else ["disabled"])

    def run_action(self, name: str) -> None:
        item = self.selected()
        if item is None or not self.actions.enabled(item).get(name):
            return
        action = {"delete_link": self.actions.delete_server_link}.get(name) or getattr(self.actions, name)
        action(item)

    def say(self, text: str) -> None:
        if not self.closed:
            self.status.configure(text=text)

    # ------------------------------------------------------------------ thumbnails
    def _yview(self, *args: Any) -> None:
        self.tree.yview(*args)
        self._want_thumbnails()

    def visible_items(self) -> list[HistoryItem]:
        """The rows on screen now (from the scroll position; a few extra on each side)."""
        inserted = len(self._item_of)
        if not inserted:
            return []
        lo, hi = self.tree.yview()
        first = max(0, int(lo * inserted) - 2)
        last = min(inserted, int(hi * inserted) + 3)
        if hi - lo >= 0.999 and inserted < len(self.shown):
            last = min(inserted, first + FIRST_ROWS)  # still filling: the first screenful
        return self.shown[first:last]

    def _want_thumbnails(self) -> None:
        wanted = [(item.key, item.path) for item in reversed(self.visible_items())
                  if item.key not in self._images and item.key not in self._no_thumb]
        if wanted:
            self.loader.want(wanted)

    def _thumbnail_ready(self, key: tuple, thumb: Path | None) -> None:
        if self.closed:
            return
        if thumb is None:
            self._no_thumb.add(key)
            return
        import tkinter as tk

        try:
            image = tk.PhotoImage(master=self.top, file=str(thumb))
        except tk.TclError as exc:
            log.info("thumbnail %s unreadable: %s", thumb, exc)
            self._no_thumb.add(key)
            return
        self._images[key] = image
        iid = self._iid_of.get(key)
        if iid is not None:
            self.tree.item(iid, image=image)
        if len(self._images) > IMAGE_LIMIT:
            self._forget_far_images()

    def _forget_far_images(self) -> None:
        near = {item.key for item in self.visible_items()}
        for key in [k for k in self._images if k not in near][: len(self._images) - IMAGE_LIMIT // 2]:
            iid = self._iid_of.get(key)
            if iid is not None:
                self.tree.item(iid, image="")
            del self._images[key]

    def thumbnail(self, item: HistoryItem) -> Any:
        """The Tk image shown for ``item`` (tests), or None."""
        return self._images.get(item.key)

    # ------------------------------------------------------------------ lifecycle
    def raise_(self) -> None:
        self.top.deiconify()
        self.top.lift()
        self.top.focus_force()
        self.refresh()

    def close(self) -> None:
        if self.closed:
            return
        if self._refresh_after is not None:
            self.top.after_cancel(self._refresh_after)
        self._ended()
        self.top.destroy()

    def _ended(self) -> None:
        """The window is gone (closed here, or its X window destroyed by someone else): stop and tell the owner."""
        if self.closed:
            return
        self.closed = True
        self.loader.stop(timeout=0.5)
        self._images.clear()
        if self._on_close is not None:
            self._on_close()
