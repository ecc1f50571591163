"""Pin to screen: a captured (or annotated) image as a frameless, always-on-top window.

Drag moves it; the mouse wheel zooms (the image point under the cursor stays under the cursor); Ctrl+C copies the
image (PNG, the original pixels whatever the zoom); Esc, a double-click or the middle button closes it. Several pins
may be open at once: :class:`PinBoard` keeps them (the tray's "Pin last screenshot", the annotator's Pin, and
``snaplark shot --pin``, whose process lives until its last pin closes).

At zoom 1 the window shows the image's own pixels inside a 1-px accent border (so it reads as a pin, not as part of
the screen); zooming in uses nearest-neighbour (crisp pixels), zooming out Lanczos.

Threading: Tk thread only.
"""

from __future__ import annotations

import io
import logging
from typing import Any, Callable

from PIL import Image

from tray.ui.overlay import frameless_topmost

log = logging.getLogger(__name__)

BORDER = 1
BORDER_COLOUR = "#2f8cff"
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.1, 8.0


class PinWindow:
    """One pinned image at screen position ``(x, y)`` (default: where the pointer is). ``on_close(pin)`` once."""

    def __init__(self, root: Any, image: Image.Image, *, x: int | None = None, y: int | None = None,
                 clipboard: Any = None, on_close: Callable[["PinWindow"], None] | None = None,
                 on_message: Callable[[str, str], None] | None = None) -> None:
        import tkinter as tk
        from PIL import ImageTk

        self._tk, self._ImageTk = tk, ImageTk
        self.root = root
        self.image = image.convert("RGB")
        self.clipboard = clipboard
        self.on_close = on_close
        self.on_message = on_message
        self.zoom = 1.0
        self.closed = False
        self._drag: tuple[int, int, int, int] | None = None

        self.window = win = frameless_topmost(root)
        self.canvas = c = tk.Canvas(win, highlightthickness=BORDER, highlightbackground=BORDER_COLOUR,
                                    highlightcolor=BORDER_COLOUR, borderwidth=0, cursor="fleur", background="black")
        c.pack(fill="both", expand=True)
        self._photo: Any = None
        self._item = c.create_image(BORDER, BORDER, anchor="nw")
        if x is None or y is None:
            px, py = win.winfo_pointerxy()
            x, y = px - self.image.width // 2, py - self.image.height // 2
        self._show(int(x), int(y))

        c.bind("<ButtonPress-1>", self._on_press)
        c.bind("<B1-Motion>", self._on_drag)
        c.bind("<ButtonRelease-1>", lambda e: setattr(self, "_drag", None))
        c.bind("<Double-Button-1>", lambda e: self.close())
        c.bind("<ButtonPress-2>", lambda e: self.close())
        c.bind("<MouseWheel>", lambda e: self.zoom_at(e.x_root, e.y_root, ZOOM_STEP if e.delta > 0 else 1 / ZOOM_STEP))
        c.bind("<Button-4>", lambda e: self.zoom_at(e.x_root, e.y_root, ZOOM_STEP))  # X11 wheel up
        c.bind("<Button-5>", lambda e: self.zoom_at(e.x_root, e.y_root, 1 / ZOOM_STEP))
        win.bind("<Escape>", lambda e: self.close())
        win.bind("<Control-c>", lambda e: self.copy())
        win.bind("<Control-C>", lambda e: self.copy())
        win.bind("<Destroy>", self._on_destroy, add="+")
        win.deiconify()
        win.lift()
        win.after_idle(lambda: self.closed or win.focus_force())

    # -- geometry -------------------------------------------------------------------------------------------
    @property
    def shown_size(self) -> tuple[int, int]:
        """The image's size on screen at the current zoom (without the border)."""
        return (max(1, round(self.image.width * self.zoom)), max(1, round(self.image.height * self.zoom)))

    @property
    def position(self) -> tuple[int, int]:
        """Top-left of the image on screen (inside the border)."""
        return (self.window.winfo_rootx() + BORDER, self.window.winfo_rooty() + BORDER)

    def _show(self, x: int, y: int) -> None:
        w, h = self.shown_size
        if (w, h) == self.image.size:
            shown = self.image
        else:
            resample = Image.Resampling.NEAREST if self.zoom >= 1 else Image.Resampling.LANCZOS
            shown = self.image.resize((w, h), resample)
        self._photo = self._ImageTk.PhotoImage(shown, master=self.window)
        self.canvas.itemconfigure(self._item, image=self._photo)
        self.canvas.configure(width=w, height=h)
        self.window.geometry(f"{w + 2 * BORDER}x{h + 2 * BORDER}+{x}+{y}")

    def zoom_at(self, x_root: int, y_root: int, factor: float) -> None:
        """Zoom by ``factor`` keeping the image point under screen point (x_root, y_root) where it is."""
        new = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        if new == self.zoom or self.closed:
            return
        left, top = self.position
        ix, iy = (x_root - left) / self.zoom, (y_root - top) / self.zoom  # image coordinates under the cursor
        self.zoom = new
        self._show(round(x_root - ix * new) - BORDER, round(y_root - iy * new) - BORDER)

    # -- events ---------------------------------------------------------------------------------------------
    def _on_press(self, event: Any) -> None:
        self.window.focus_force()  # a frameless window gets no focus from the window manager: Esc, Ctrl+C need it
        self._drag = (event.x_root, event.y_root, self.window.winfo_rootx(), self.window.winfo_rooty())

    def _on_drag(self, event: Any) -> None:
        if self._drag is None:
            return
        x0, y0, wx, wy = self._drag
        self.window.geometry(f"+{wx + event.x_root - x0}+{wy + event.y_root - y0}")

    def copy(self) -> None:
        """Ctrl+C: the original image (not the zoomed copy) to the clipboard as PNG."""
        if self.clipboard is None:
            self._tell("No clipboard", "Could not copy the pinned image")
            return
        out = io.BytesIO()
        self.image.save(out, format="PNG")
        try:
            self.clipboard.copy_image_png(out.getvalue())
        except Exception as exc:  # noqa: BLE001
            self._tell("Could not copy the image", str(exc))
            return
        self._tell("Image copied", f"{self.image.width}x{self.image.height}")

    def _tell(self, title: str, body: str) -> None:
        log.info("pin: %s: %s", title, body)
        if self.on_message is not None:
            self.on_message(title, body)

    def close(self) -> None:
        if not self.closed:
            self.window.destroy()

    def _on_destroy(self, event: Any) -> None:
        if event.widget is not self.window or self.closed:
            return
        self.closed = True
        self._photo = None  # released on the Tk thread
        if self.on_close is not None:
            self.on_close(self)


class PinBoard:
    """The open pins. ``on_empty`` runs when the last one closes (``snaplark shot --pin`` quits then)."""

    OFFSET = 24  # a new pin of the same place lands this much lower-right of the last one

    def __init__(self, root: Any, *, clipboard: Any = None, on_message: Callable[[str, str], None] | None = None,
                 on_empty: Callable[[], None] | None = None) -> None:
        self.root = root
        self.clipboard = clipboard
        self.on_message = on_message
        self.on_empty = on_empty
        self.pins: list[PinWindow] = []

    def pin(self, image: Image.Image, x: int | None = None, y: int | None = None) -> PinWindow:
        if x is None and y is None and self.pins:
            last = self.pins[-1].window
            x, y = last.winfo_rootx() + self.OFFSET, last.winfo_rooty() + self.OFFSET
        pin = PinWindow(self.root, image, x=x, y=y, clipboard=self.clipboard, on_close=self._closed,
                        on_message=self.on_message)
        self.pins.append(pin)
        return pin

    def _closed(self, pin: PinWindow) -> None:
        if pin in self.pins:
            self.pins.remove(pin)
        if not self.pins and self.on_empty is not None:
            self.on_empty()

    def close_all(self) -> None:
        for pin in list(self.pins):
            pin.close()
