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
from tray.ui.overlay import frameless_topmost
from tray.ui.selector_draw import ACCENT, MAG_SOURCE, MAG_ZOOM, SelectorDrawing

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

FIRST_PAINT_FALLBACK_MS = 1000  # the after-first-paint work runs then at the latest (no Expose came: unusual)


class RegionSelector(SelectorDrawing):
    """Full-screen selection overlay. Construct on the Tk thread; it shows itself at once.

    ``on_done(region)`` is called exactly once, after the overlay window is destroyed (so a capture taken in the
    callback does not contain it): with a :class:`Region` in physical pixels, or ``None`` when cancelled.

    Keys: drag = select (drag inside the selection = move it, drag one of its 8 handles or an edge = resize it, the
    cursor shape says which); Enter / double-click = confirm; Esc or right-click = cancel; arrows = nudge 1 px (Shift = resize, Ctrl = 10 px); Space = the whole monitor under the cursor
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
    ``windows`` may also be a callable returning ``(windows, windows_problem)`` (the window list not read yet:
    :class:`tray.ui.capture_flow.CaptureFlow` passes its reader): called in the idle pass after the first paint,
    or at once when a click or W needs it, so the frozen screen shows before the list is read.
    ``grab`` takes a global keyboard/pointer grab (retried briefly while a hotkey grab is still active).
    """

    def __init__(self, root: Any, frozen: Image.Image, origin: tuple[int, int] = (0, 0),
                 on_done: Callable[[Region | None], None] | None = None, *, scale: float = 1.0,
                 monitors: Sequence[Monitor] = (), grab: bool = True,
                 prepared: SelectorImages | None = None, clipboard: Any = None,
                 windows: Sequence[TopWindow] | Callable[[], tuple[Sequence[TopWindow], str | None]] = (),
                 window_frame: bool = True,
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
        self.window_frame, self._windows_problem = window_frame, windows_problem
        self._window_list: Callable[[], tuple[Sequence[TopWindow], str | None]] | None = \
            windows if callable(windows) else None
        self._windows: list[TopWindow] = [] if callable(windows) else list(windows)
        self._first_painted = False  # the frozen screen is on screen: the window outline may follow

        images = prepared if prepared is not None else SelectorImages.prepare(frozen, self.scale)
        self.frozen = images.frozen
        self._bright = images.bright
        w, h = images.bright.size
        monitors = list(monitors) or [Monitor(0, Region(self.origin[0], self.origin[1],
                                                        self.frozen.width, self.frozen.height), self.scale, True)]
        self.model = SelectionModel(w, h, monitors_to_overlay(monitors, self.origin, self.scale))

        self.window = win = frameless_topmost(root, withdrawn=True)
        win.geometry(f"{w}x{h}+{round(self.origin[0] / self.scale)}+{round(self.origin[1] / self.scale)}")
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
        self._create_handles()
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

        c.bind("<Expose>", self._on_expose, add="+")
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
        win.after(FIRST_PAINT_FALLBACK_MS, self._after_first_paint)

    # -- public ---------------------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def windows(self) -> list[TopWindow]:
        """The top-level windows to pick from, topmost first (read now if that has not happened yet)."""
        read, self._window_list = self._window_list, None
        if read is not None:
            try:
                windows, problem = read()
                self._windows = list(windows)  # read while the overlay is mapped: window_info leaves it out
                self._windows_problem = problem or self._windows_problem
            except Exception as exc:  # noqa: BLE001 - region selection still works; W says why windows do not
                log.warning("no window list for the selector: %s", exc)
                self._windows, self._windows_problem = [], f"Window list unavailable: {exc}"
        return self._windows

    def _windows_expected(self) -> bool:
        """Windows to pick from, or a list not read yet (the hint mentions window picking then)."""
        return self._window_list is not None or bool(self._windows)

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
    def _on_expose(self, event: Any) -> None:
        if not self._first_painted:
            # the canvas redraws in an idle pass queued by this Expose; one queued from that pass runs after it
            self.window.after_idle(lambda: self.window.after_idle(self._after_first_paint))

    def _after_first_paint(self) -> None:
        """The frozen screen is shown: now the bright copy as a Tk image, the window list and its outline."""
        if self._first_painted or self._finished:
            return
        self._first_painted = True
        self._ensure_bright_photo()
        self.windows  # noqa: B018 - read the list now
        self._schedule_redraw()
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

