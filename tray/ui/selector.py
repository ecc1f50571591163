"""Region selector: a full-screen Tk overlay over a frozen screenshot of every monitor.

:class:`RegionSelector` is the Tk overlay (Tk thread only, see ``tray/ui/dispatcher.py``): it shows the frozen
screenshot, a crosshair, a size readout, a hint line and a magnifier, and feeds mouse and keyboard to a
:class:`~tray.ui.selection_model.SelectionModel`. The geometry, the coordinate rules (physical vs logical pixels)
and the prepared images live in :mod:`tray.ui.selection_model`; their names are re-exported here.

Why no transparency: ``-alpha`` needs a compositor (absent under Xvfb and on many X desktops), so the overlay
shows the frozen screenshot itself: a pre-rendered dimmed copy everywhere, and the bright pixels pasted inside the
selection.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

from PIL import Image

from tray_platform.base import Monitor, Region, TopWindow

from tray.ui.focus import take_focus

from tray.ui.selection_model import (  # noqa: F401 - re-exported: callers import the model from here too
    DIM_FACTOR,
    Rect,
    SelectionModel,
    SelectorImages,
    crop_to_region,
    monitors_to_overlay,
)

__all__ = ["ACCENT", "DIM_FACTOR", "MAG_SOURCE", "MAG_ZOOM", "Rect", "RegionSelector", "SelectionModel",
           "SelectorImages", "crop_to_region", "monitors_to_overlay"]

log = logging.getLogger(__name__)

ACCENT = "#2f8cff"
MAG_ZOOM = 8
MAG_SOURCE = 15  # physical pixels shown across the magnifier (odd: a centre pixel exists)


class RegionSelector:
    """Full-screen selection overlay. Construct on the Tk thread; it shows itself at once.

    ``on_done(region)`` is called exactly once, after the overlay window is destroyed (so a capture taken in the
    callback does not contain it): with a :class:`Region` in physical pixels, or ``None`` when cancelled.

    Keys: drag = select (drag inside the selection = move it); Enter / double-click = confirm; Esc or right-click
    = cancel; arrows = nudge 1 px (Shift = resize, Ctrl = 10 px); Space = the whole monitor under the cursor
    (confirms at once); window capture as in ShareX: the top-level window under the cursor is outlined while nothing
    is selected, a click on it (no drag) or W takes it at once -- ``windows`` (topmost first, taken with the frozen
    screen; see :mod:`tray.capture.window`), with the window manager's frame when ``window_frame``, else the
    content only; ``windows_problem`` is what W says when there is no window list (Wayland);
    C = copy the colour under the cursor (the magnifier's centre pixel) as ``#rrggbb`` through
    ``clipboard`` (the platform clipboard adapter), confirmed on the overlay for a moment. Confirming an empty
    selection is refused with a message on the overlay.

    ``monitors`` are in physical virtual-screen pixels (default: one monitor covering ``frozen``); ``scale`` is
    physical pixels per overlay pixel for the whole overlay (1.0 on X11; the platform adapter supplies it).
    ``prepared`` = :meth:`SelectorImages.prepare` of the same ``frozen``, done off the Tk thread to map sooner.
    ``grab`` takes a global keyboard/pointer grab (retried briefly while a hotkey grab is still active).
    """

    def __init__(self, root: Any, frozen: Image.Image, origin: tuple[int, int] = (0, 0),
                 on_done: Callable[[Region | None], None] | None = None, *, scale: float = 1.0,
                 monitors: Sequence[Monitor] = (), grab: bool = True,
                 prepared: SelectorImages | None = None, clipboard: Any = None,
                 windows: Sequence[TopWindow] = (), window_frame: bool = True,
                 windows_problem: str | None = None) -> None:
        import tkinter as tk

        if on_done is None:
            raise TypeError("RegionSelector needs on_done(region_or_None)")
        from PIL import ImageTk

        self._tk = tk
        self._ImageTk = ImageTk
        self.root = root
        self.on_done = on_done
        self.origin = (int(origin[0]), int(origin[1]))
        self.scale = float(scale) if scale > 0 else 1.0
        self._finished = False
        self._redraw_pending: str | None = None
        self._cursor: tuple[int, int] = (0, 0)
        self._message: str | None = None
        self._message_ok = False  # a confirmation (green), not a refusal (orange)
        self._message_job: Any = None
        self.clipboard = clipboard
        self.windows, self.window_frame, self._windows_problem = list(windows), window_frame, windows_problem

        images = prepared if prepared is not None else SelectorImages.prepare(frozen, self.scale)
        self.frozen = images.frozen
        self._bright = images.bright
        w, h = images.bright.size
        monitors = list(monitors) or [Monitor(0, Region(self.origin[0], self.origin[1],
                                                        self.frozen.width, self.frozen.height), self.scale, True)]
        self.model = SelectionModel(w, h, monitors_to_overlay(monitors, self.origin, self.scale))

        self.window = win = tk.Toplevel(root)
        win.withdraw()
        win.overrideredirect(True)
        win.geometry(f"{w}x{h}+{round(self.origin[0] / self.scale)}+{round(self.origin[1] / self.scale)}")
        try:
            win.attributes("-topmost", True)
        except tk.TclError:  # pragma: no cover - some window systems refuse
            pass
        self.canvas = c = tk.Canvas(win, width=w, height=h, highlightthickness=0, borderwidth=0, cursor="crosshair",
                                    background="black")
        c.pack(fill="both", expand=True)
        self._dim_photo = ImageTk.PhotoImage(images.dimmed, master=win)
        # The bright copy is converted lazily (after the overlay is mapped: the user cannot press that fast);
        # the selection shows a Tk-native copy of its sub-rectangle, so a redraw costs no Pillow->Tk conversion.
        self._bright_photo: Any = None
        self._selection_photo = tk.PhotoImage(master=win)
        c.create_image(0, 0, image=self._dim_photo, anchor="nw", tags=("dim",))
        self._bright_item = c.create_image(0, 0, image=self._selection_photo, anchor="nw", state="hidden",
                                           tags=("bright",))
        self._border = c.create_rectangle(0, 0, 0, 0, outline=ACCENT, width=2, state="hidden")
        self._window_outline = c.create_rectangle(0, 0, 0, 0, outline=ACCENT, width=3, dash=(8, 4), state="hidden")
        # black under white dashes: visible on light and dark pixels alike
        self._cross_h0 = c.create_line(0, 0, w, 0, fill="#000000")
        self._cross_v0 = c.create_line(0, 0, 0, h, fill="#000000")
        self._cross_h = c.create_line(0, 0, w, 0, fill="#ffffff", dash=(3, 3))
        self._cross_v = c.create_line(0, 0, 0, h, fill="#ffffff", dash=(3, 3))
        self._readout_bg = c.create_rectangle(0, 0, 0, 0, fill="#1b1b1b", outline=ACCENT, state="hidden")
        self._readout = c.create_text(0, 0, anchor="nw", fill="#ffffff", font=("DejaVu Sans", -13), state="hidden")
        self._hint_bg = c.create_rectangle(0, 0, 0, 0, fill="#1b1b1b", outline="#555555")
        self._hint = c.create_text(w // 2, 24, anchor="n", fill="#ffffff", font=("DejaVu Sans", -14))
        mag_px = MAG_SOURCE * MAG_ZOOM
        self._mag_photo = ImageTk.PhotoImage(Image.new("RGB", (mag_px, mag_px)), master=win)
        self._mag_item = c.create_image(0, 0, image=self._mag_photo, anchor="nw")
        self._mag_outer = c.create_rectangle(0, 0, 0, 0, outline="#000000", width=1)
        self._mag_border = c.create_rectangle(0, 0, 0, 0, outline="#ffffff", width=2)
        self._mag_centre = c.create_rectangle(0, 0, 0, 0, outline=ACCENT, width=1)
        self._mag_text_bg = c.create_rectangle(0, 0, 0, 0, fill="#1b1b1b", outline="")
        self._mag_text = c.create_text(0, 0, anchor="n", fill="#ffffff", font=("DejaVu Sans Mono", -11))

        c.bind("<ButtonPress-1>", self._on_press)
        c.bind("<B1-Motion>", self._on_drag)
        c.bind("<ButtonRelease-1>", self._on_release)
        c.bind("<Double-Button-1>", self._on_double)
        c.bind("<Motion>", self._on_motion)
        c.bind("<ButtonPress-3>", lambda e: self.cancel())
        win.bind("<Escape>", lambda e: self.cancel())
        win.bind("<Return>", lambda e: self.confirm())
        win.bind("<KP_Enter>", lambda e: self.confirm())
        win.bind("<space>", lambda e: self._on_space())
        win.bind("<c>", lambda e: self.copy_colour())
        win.bind("<w>", lambda e: self.take_window())
        win.bind("<W>", lambda e: self.take_window())
        win.bind("<C>", lambda e: self.copy_colour())
        for key, (dx, dy) in {"Left": (-1, 0), "Right": (1, 0), "Up": (0, -1), "Down": (0, 1)}.items():
            win.bind(f"<{key}>", lambda e, dx=dx, dy=dy: self._keyboard(self.model.nudge, dx, dy))
            win.bind(f"<Shift-{key}>", lambda e, dx=dx, dy=dy: self._keyboard(self.model.resize, dx, dy))
            win.bind(f"<Control-{key}>", lambda e, dx=dx, dy=dy: self._keyboard(self.model.nudge, dx * 10, dy * 10))

        try:
            px, py = win.winfo_pointerxy()
            self._cursor = self.model.clamp(px - round(self.origin[0] / self.scale),
                                             py - round(self.origin[1] / self.scale))
        except tk.TclError:  # pragma: no cover
            pass
        self._redraw()
        win.deiconify()
        win.lift()
        self._take_focus(grab, attempts=10)
        win.after(1, self._ensure_bright_photo)

    # -- public ---------------------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self._finished

    def confirm(self) -> bool:
        """Accept the current selection. Refused (False, message shown) when it is empty."""
        region = self.model.to_region(self.origin, self.scale)
        if region is None:
            self._show_message("Nothing selected: drag to select an area (Esc cancels)", ok=False)
            return False
        self._finish(region)
        return True

    def cancel(self) -> None:
        self._finish(None)

    def window_under_cursor(self) -> tuple[TopWindow, Region] | None:
        """The window under the cursor and the region it would be captured as (physical pixels, on the screen)."""
        from tray.capture.errors import InvalidCaptureTarget
        from tray.capture.window import window_at, window_region

        vx = self.origin[0] + round(self._cursor[0] * self.scale)
        vy = self.origin[1] + round(self._cursor[1] * self.scale)
        window = window_at(self.windows, vx, vy)
        if window is None:
            return None
        screen = Region(self.origin[0], self.origin[1], self.frozen.width, self.frozen.height)
        try:
            return window, window_region(window, self.window_frame, screen)
        except InvalidCaptureTarget:
            return None

    def take_window(self) -> bool:
        """W, or a click without a drag: capture the window under the cursor (confirms at once)."""
        hit = self.window_under_cursor()
        if hit is None:
            self._show_message(self._windows_problem or ("No window under the cursor" if self.windows else
                               "No windows to pick here: drag to select an area"), ok=False)
            return False
        log.info("selector: window 0x%x %r", hit[0].id, hit[0].title)
        self._finish(hit[1])
        return True

    def colour_under_cursor(self) -> str:
        """``#rrggbb`` of the frozen pixel under the cursor: the magnifier's centre pixel."""
        fx = min(max(round(self._cursor[0] * self.scale), 0), self.frozen.width - 1)
        fy = min(max(round(self._cursor[1] * self.scale), 0), self.frozen.height - 1)
        r, g, b = self.frozen.getpixel((fx, fy))[:3]
        return f"#{r:02x}{g:02x}{b:02x}"

    def copy_colour(self) -> str | None:
        """C: the colour under the cursor to the clipboard; says so on the overlay. Returns what was copied."""
        colour = self.colour_under_cursor()
        if self.clipboard is None:
            self._show_message(f"{colour} (no clipboard to copy it to)", ok=False)
            return None
        try:
            self.clipboard.copy_text(colour)
        except Exception as exc:  # noqa: BLE001 - told on the overlay; the selection goes on
            self._show_message(f"Could not copy {colour}: {exc}", ok=False)
            return None
        log.info("selector: copied colour %s", colour)
        self._show_message(f"Copied {colour}", ok=True, for_ms=1500)
        return colour

    def _show_message(self, text: str, *, ok: bool, for_ms: int | None = None) -> None:
        self._message, self._message_ok = text, ok
        if self._message_job is not None:
            self.window.after_cancel(self._message_job)
            self._message_job = None
        if for_ms is not None:
            self._message_job = self.window.after(for_ms, self._clear_message)
        self._schedule_redraw()

    def _clear_message(self) -> None:
        self._message_job = None
        self._message = None
        self._schedule_redraw()

    # -- events ---------------------------------------------------------------------------------------------
    def _xy(self, event: Any) -> tuple[int, int]:
        return self.model.clamp(event.x, event.y)

    def _on_press(self, event: Any) -> None:
        self._message = None
        self._cursor = self._xy(event)
        self.model.press(*self._cursor)
        self._schedule_redraw()

    def _on_drag(self, event: Any) -> None:
        self._cursor = self._xy(event)
        self.model.drag(*self._cursor)
        self._schedule_redraw()

    def _on_release(self, event: Any) -> None:
        self._cursor = self._xy(event)
        self.model.release(*self._cursor)
        if self.model.rect is not None and self.model.is_empty and self.windows and self.window_under_cursor():
            self.take_window()  # a click, no drag, on a window: ShareX's window capture
            return
        self._schedule_redraw()

    def _on_double(self, event: Any) -> None:
        self._cursor = self._xy(event)
        self.confirm()

    def _on_motion(self, event: Any) -> None:
        self._cursor = self._xy(event)
        self._schedule_redraw()

    def _on_space(self) -> None:
        if self.model.select_monitor_at(*self._cursor):
            self.confirm()

    def _keyboard(self, action: Callable[[int, int], None], dx: int, dy: int) -> None:
        action(dx, dy)
        self._schedule_redraw()

    def _take_focus(self, grab: bool, attempts: int) -> None:
        # A global grab gets keys and pointer even without window-manager focus (overrideredirect).
        take_focus(self.window, self.canvas, grab=grab, attempts=attempts, wanted=lambda: not self._finished,
                   what="selector", local_grab_fallback=True)

    def _finish(self, region: Region | None) -> None:
        if self._finished:
            return
        self._finished = True
        if self._redraw_pending is not None:
            try:
                self.window.after_cancel(self._redraw_pending)
            except self._tk.TclError:
                pass
        try:
            self.window.grab_release()
        except self._tk.TclError:
            pass
        self.window.destroy()
        self.root.update_idletasks()
        # release Tk images on the Tk thread (a GC on another thread would call into Tcl from there)
        self._dim_photo = self._bright_photo = self._selection_photo = self._mag_photo = None
        self.on_done(region)

    # -- drawing --------------------------------------------------------------------------------------------
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
            + (" \u00b7 click a window or W: capture it" if self.windows else ""))
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
        for item in (self._window_outline, self._border, self._readout_bg, self._readout, self._hint_bg, self._hint):
            c.tag_raise(item)

    def _outline_window(self, m: SelectionModel) -> None:
        """While nothing is selected: the window a click (or W) would take, outlined with its size and title."""
        hit = None if (m.dragging or (m.rect and not m.is_empty)) else self.window_under_cursor()
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
