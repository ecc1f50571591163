"""The region selector's drawing: the canvas items of :class:`tray.ui.selector.RegionSelector` redrawn from its
:class:`~tray.ui.selection_model.SelectionModel` (selection and its resize handles, the cursor shape, crosshair,
size readout, hint, window outline, magnifier). A mixin: the selector owns the canvas, the items and the state;
Tk thread only.

The first frame is the frozen screen, dimmed, with crosshair, hint and magnifier; the window outline (which needs
the bright copy as a Tk image, ~15-25 ms for a 1080p screen) follows in the idle pass after that frame is painted
(``_first_painted``), so the overlay shows sooner.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from tray.ui.selection_model import HANDLES, SelectionModel

ACCENT = "#2f8cff"
HANDLE_HALF = 4  # the resize handles are 9 x 9 px squares centred on the corners and edge midpoints
MAG_ZOOM = 8
MAG_SOURCE = 15  # physical pixels shown across the magnifier (odd: a centre pixel exists)


class SelectorDrawing:
    """Redraws :class:`~tray.ui.selector.RegionSelector`'s canvas items (mixed into it)."""

    canvas: Any
    window: Any
    model: SelectionModel
    frozen: Image.Image
    origin: tuple[int, int]
    scale: float
    _first_painted: bool
    _bright: Image.Image
    _bright_photo: Any
    _ImageTk: Any
    _finished: bool
    _redraw_pending: str | None

    def _create_handles(self) -> None:
        """The 8 resize handles (hidden until something is selected) and the cursor shape they set."""
        self._handles = [self.canvas.create_rectangle(0, 0, 0, 0, fill=ACCENT, outline="#ffffff", state="hidden")
                         for _ in HANDLES]
        self._cursor_shape = "crosshair"

    def _draw_handles(self, m: SelectionModel) -> None:
        c, points = self.canvas, m.handle_points()
        for item, name in zip(self._handles, HANDLES):
            if name in points:
                x, y = points[name]
                c.coords(item, x - HANDLE_HALF, y - HANDLE_HALF, x + HANDLE_HALF, y + HANDLE_HALF)
                c.itemconfigure(item, state="normal")
            else:
                c.itemconfigure(item, state="hidden")
        shape = m.cursor_at(*self._cursor)  # a handle's arrow, fleur inside, crosshair elsewhere
        if shape != self._cursor_shape:
            c.configure(cursor=shape)
            self._cursor_shape = shape

    def _ensure_bright_photo(self) -> None:
        if self._bright_photo is None and not self._finished:
            self._bright_photo = self._ImageTk.PhotoImage(self._bright, master=self.window)

    def _schedule_redraw(self) -> None:
        if self._redraw_pending is None and not self._finished:
            self._redraw_pending = self.window.after_idle(self._redraw)

    def _redraw(self) -> None:
        self._redraw_pending = None
        if self._finished:
            return
        c, m = self.canvas, self.model
        cx, cy = self._cursor
        w, h = m.width, m.height
        if m.rect is not None and not m.is_empty:
            l, t, r, b = m.rect
            self._ensure_bright_photo()
            self.window.tk.call(str(self._selection_photo), "copy", str(self._bright_photo),
                                "-from", l, t, r, b, "-to", 0, 0, "-shrink")
            c.itemconfigure(self._bright_item, state="normal")
            c.coords(self._bright_item, l, t)
            c.coords(self._border, l, t, r, b)
            c.itemconfigure(self._border, state="normal")
        else:
            c.itemconfigure(self._bright_item, state="hidden")
            if m.rect is not None:  # a zero-size press point still shows where it started
                c.coords(self._border, m.rect[0], m.rect[1], m.rect[2], m.rect[3])
                c.itemconfigure(self._border, state="normal")
            else:
                c.itemconfigure(self._border, state="hidden")

        for item in (self._cross_h0, self._cross_h):
            c.coords(item, 0, cy, w, cy)
        for item in (self._cross_v0, self._cross_v):
            c.coords(item, cx, 0, cx, h)

        # size readout in physical pixels, above the selection (inside it when there is no room above)
        if m.rect is not None:
            region = m.to_region(self.origin, self.scale)
            pw, ph = (region.width, region.height) if region else (0, 0)
            c.itemconfigure(self._readout, text=f"{pw} \u00d7 {ph}", state="normal")
            l, t = m.rect[0], m.rect[1]
            ty = t - 24 if t >= 26 else t + 6
            c.coords(self._readout, l + 6, ty + 3)
            bx0, by0, bx1, by1 = c.bbox(self._readout)
            c.coords(self._readout_bg, bx0 - 5, by0 - 3, bx1 + 5, by1 + 3)
            c.itemconfigure(self._readout_bg, state="normal")
        else:
            c.itemconfigure(self._readout, state="hidden")
            c.itemconfigure(self._readout_bg, state="hidden")

        # hint / message at the top centre (moved to the bottom when the cursor is up there)
        hint = self._message or (
            "Drag to select \u00b7 Enter or double-click: capture \u00b7 Space: whole monitor \u00b7 "
            "arrows: move (Shift: resize) \u00b7 C: copy colour \u00b7 Esc: cancel"
            + (" \u00b7 click a window or W: capture it" if self._windows_expected() else ""))
        show_hint = self._message is not None or not (m.dragging or (m.rect and not m.is_empty))
        hy = 24 if cy > 90 else h - 48
        c.coords(self._hint, w // 2, hy)
        fill = ("#81c784" if self._message_ok else "#ffb74d") if self._message else "#ffffff"
        c.itemconfigure(self._hint, text=hint, fill=fill,
                        state="normal" if show_hint else "hidden")
        if show_hint:
            bx0, by0, bx1, by1 = c.bbox(self._hint)
            c.coords(self._hint_bg, bx0 - 10, by0 - 6, bx1 + 10, by1 + 6)
            c.itemconfigure(self._hint_bg, state="normal")
        else:
            c.itemconfigure(self._hint_bg, state="hidden")

        self._outline_window(m)
        self._draw_magnifier(cx, cy)
        self._draw_handles(m)
        for item in (self._window_outline, self._border, *self._handles, self._readout_bg, self._readout,
                     self._hint_bg, self._hint):
            c.tag_raise(item)

    def _outline_window(self, m: SelectionModel) -> None:
        """While nothing is selected: the window a click (or W) would take, outlined with its size and title."""
        hit = None if (m.dragging or (m.rect and not m.is_empty) or not self._first_painted) else \
            self.window_under_cursor()
        c = self.canvas
        if hit is None:
            c.itemconfigure(self._window_outline, state="hidden")
            return
        window, r = hit
        l, t = (r.left - self.origin[0]) / self.scale, (r.top - self.origin[1]) / self.scale
        c.coords(self._window_outline, l + 1, t + 1, l + r.width / self.scale - 1, t + r.height / self.scale - 1)
        c.itemconfigure(self._window_outline, state="normal")
        self._ensure_bright_photo()  # the window bright, as it will be captured
        box = (round(l), round(t), round(l + r.width / self.scale), round(t + r.height / self.scale))
        self.window.tk.call(str(self._selection_photo), "copy", str(self._bright_photo), "-from", *box,
                            "-to", 0, 0, "-shrink")
        c.coords(self._bright_item, box[0], box[1])
        c.itemconfigure(self._bright_item, state="normal")
        if m.rect is None:
            title = window.title if len(window.title) <= 40 else window.title[:39] + "\u2026"
            c.itemconfigure(self._readout, text=f"{r.width} \u00d7 {r.height}  {title}", state="normal")
            c.coords(self._readout, l + 6, (t - 21 if t >= 26 else t + 9))
            bx0, by0, bx1, by1 = c.bbox(self._readout)
            c.coords(self._readout_bg, bx0 - 5, by0 - 3, bx1 + 5, by1 + 3)
            c.itemconfigure(self._readout_bg, state="normal")

    def _draw_magnifier(self, cx: int, cy: int) -> None:
        c = self.canvas
        size = MAG_SOURCE * MAG_ZOOM
        half = MAG_SOURCE // 2
        fx, fy = round(cx * self.scale), round(cy * self.scale)  # physical pixel under the cursor
        src = Image.new("RGB", (MAG_SOURCE, MAG_SOURCE), (0, 0, 0))
        src.paste(self.frozen.crop((fx - half, fy - half, fx + half + 1, fy + half + 1)), (0, 0))
        self._mag_photo.paste(src.resize((size, size), Image.Resampling.NEAREST))
        # place it down-right of the cursor, flipped near the right/bottom edges
        gap = 24
        x = cx + gap if cx + gap + size < self.model.width else cx - gap - size
        y = cy + gap if cy + gap + size + 22 < self.model.height else cy - gap - size - 22
        c.coords(self._mag_item, x, y)
        c.coords(self._mag_border, x, y, x + size, y + size)
        c.coords(self._mag_outer, x - 2, y - 2, x + size + 2, y + size + 2)
        c.coords(self._mag_centre, x + half * MAG_ZOOM, y + half * MAG_ZOOM, x + (half + 1) * MAG_ZOOM,
                 y + (half + 1) * MAG_ZOOM)
        r, g, b = self.frozen.getpixel((min(fx, self.frozen.width - 1), min(fy, self.frozen.height - 1)))[:3]
        c.itemconfigure(self._mag_text, text=f"{self.origin[0] + fx},{self.origin[1] + fy}  #{r:02x}{g:02x}{b:02x}")
        c.coords(self._mag_text, x + size // 2, y + size + 4)
        bx0, by0, bx1, by1 = c.bbox(self._mag_text)
        c.coords(self._mag_text_bg, x, by0 - 2, x + size, by1 + 2)
        for item in (self._mag_item, self._mag_outer, self._mag_border, self._mag_centre, self._mag_text_bg, self._mag_text):
            c.tag_raise(item)
