"""The small always-on-top control shown while recording: state icon, elapsed time, Pause/Resume, Stop, and for a
recording with a microphone its level meter and a Mute/Unmute button.

It must never be in the video. :func:`open_control` places it next to (never inside) the recorded region; when
there is no room (a full-screen recording) it goes to a screen corner only if the OS keeps it out of captures
(:mod:`tray.ui.capture_exclusion`), else it is not shown at all and the tray icon's menu and the hotkeys control
the recording (what ShareX does).

Glyphs: the state and button icons are drawn (a Canvas and small PhotoImages), not taken from a font: the media
symbols U+23F8..U+23F9 are in no font of a usual Linux desktop (Tk drew an empty box, issue 12 #3). The texts use
only ASCII, which DejaVu Sans / DejaVu Sans Mono have. The bar is sized to its content: the Pause/Resume button is
as wide as its longer label (``tkinter.font.Font.measure``), so the bar neither clips a label nor changes size when
the label changes.

Microphone (issue 14): the meter shows the peak of the last ~100 ms of the microphone as recorded
(``MicControl.level()``, a dB scale from -60 dBFS), redrawn every ``METER_MS`` by ``after()``; muted, it is grey with
a red stroke through it. The Mute button, or the M key while the bar has the keyboard focus (a click on the bar gives
it), flips ``MicControl``'s switch: the microphone is silence in the recording from that instant (system sound goes on).

Tk thread only (``MicControl`` is read here, on the Tk thread; the audio threads never touch Tk).
"""

from __future__ import annotations

from typing import Any, Callable

from tray_platform.base import Region

from tray.ui.overlay import frameless_topmost
from tray.ui.tray_icon import format_elapsed

WIDTH, HEIGHT = 210, 34  # nominal size: place_outside's default; the bar itself measures its content
GAP = 4  # between the region and the bar; the recording border (3 px) fits in it
BG = "#202020"
RED = "#e53935"
AMBER = "#ffb300"
BUTTON_BG = "#3a3a3a"
TEXT_FONT = ("DejaVu Sans", -13)
CLOCK_FONT = ("DejaVu Sans Mono", -14)
PAUSE_LABELS = ("Pause", "Resume")
MUTE_LABELS = ("Mute", "Unmute")
ICON = 10  # px, the button icons
METER_W, METER_H = 34, 12  # px, the microphone level meter
METER_MS = 100  # meter redraw interval
METER_FLOOR_DB = -60.0  # the meter's empty end
GREEN, GREY = "#43a047", "#6a6a6a"


def meter_fraction(level: float) -> float:
    """How full the meter is for a peak ``level`` (0..1): dBFS from ``METER_FLOOR_DB`` (empty) to 0 (full)."""
    import math

    if level <= 0.0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - 20.0 * math.log10(min(level, 1.0)) / METER_FLOOR_DB))


def find_room_outside(region: Region, screen: Region, width: int = WIDTH, height: int = HEIGHT,
                      gap: int = GAP) -> tuple[int, int] | None:
    """Top-left corner for a ``width`` x ``height`` bar outside ``region`` and inside ``screen``: below the region,
    else above, else right, else left; None when none of them fits (a full-screen recording)."""
    cx = min(max(region.left, screen.left), screen.right - width)
    cy = min(max(region.top, screen.top), screen.bottom - height)
    candidates = [
        (cx, region.bottom + gap),
        (cx, region.top - height - gap),
        (region.right + gap, cy),
        (region.left - width - gap, cy),
    ]
    for x, y in candidates:
        if screen.left <= x and x + width <= screen.right and screen.top <= y and y + height <= screen.bottom:
            return x, y
    return None


def place_outside(region: Region, screen: Region, width: int = WIDTH, height: int = HEIGHT) -> tuple[int, int]:
    """:func:`find_room_outside`, else the screen's bottom-right corner (inside the region: only for a bar the
    OS keeps out of captures)."""
    return find_room_outside(region, screen, width, height) or (screen.right - width, screen.bottom - height)


def covers_a_monitor(region: Region, monitors: Any) -> bool:
    """True when ``region`` contains a whole monitor (a full-screen recording: notifications would be in it)."""
    return any(region.left <= m.region.left and region.top <= m.region.top and m.region.right <= region.right
               and m.region.bottom <= region.bottom for m in monitors)


def _icon(root: Any, kind: str, colour: str = "#ffffff") -> Any:
    """A ``ICON`` x ``ICON`` PhotoImage: "pause" (two bars), "play" (a triangle), "stop" (a square) or "mic" (a
    microphone on its stand)."""
    import tkinter as tk

    img = tk.PhotoImage(master=root, width=ICON, height=ICON)
    if kind == "pause":
        img.put(colour, to=(1, 0, 4, ICON))
        img.put(colour, to=(6, 0, 9, ICON))
    elif kind == "stop":
        img.put(colour, to=(1, 1, 9, 9))
    elif kind == "mic":
        img.put(colour, to=(3, 0, 7, 6))  # the capsule
        img.put(colour, to=(1, 4, 2, 7))  # the holder's arms
        img.put(colour, to=(8, 4, 9, 7))
        img.put(colour, to=(2, 7, 8, 8))
        img.put(colour, to=(4, 8, 6, 9))  # the stem and the foot
        img.put(colour, to=(2, 9, 8, 10))
    else:  # play: rows widen to the middle, then narrow
        for y in range(ICON):
            reach = 2 + (min(y, ICON - 1 - y) * 7) // (ICON // 2)
            img.put(colour, to=(1, y, min(ICON, reach), y + 1))
    return img


class RecordingControl:
    """The bar. Built withdrawn when ``show`` is False (then :meth:`show_at`); with ``show`` True it appears at
    :func:`place_outside` for its measured size. ``size`` is the measured (width, height)."""

    def __init__(self, root: Any, region: Region, screen: Region, *, on_stop: Callable[[], None],
                 on_toggle_pause: Callable[[], None], elapsed: Callable[[], float], paused: Callable[[], bool],
                 show: bool = True, microphone: Any = None):
        import tkinter as tk
        import tkinter.font as tkfont

        self._elapsed, self._paused = elapsed, paused
        self.window = win = frameless_topmost(root, withdrawn=True)
        win.configure(background=BG)
        text_font = tkfont.Font(root=root, family=TEXT_FONT[0], size=TEXT_FONT[1])
        self._icons = {kind: _icon(root, kind) for kind in ("pause", "play", "stop", "mic")}

        self.status = tk.Canvas(win, width=14, height=14, background=BG, highlightthickness=0, bd=0)
        self.status.pack(side="left", padx=(10, 4))
        self.label = tk.Label(win, text="00:00", fg="white", bg=BG, font=CLOCK_FONT, width=len("0:00:00"),
                              anchor="w")
        self.label.pack(side="left", padx=(2, 8))
        self.microphone = microphone  # tray.capture.mic_control.MicControl, or None: no meter, no Mute button
        self.meter: Any = None
        self.mute_button: Any = None
        self.meter_level = 0.0  # the level the meter shows now (0..1 peak), 0 while muted
        button = dict(relief="flat", fg="white", activeforeground="white", font=text_font, compound="left",
                      padx=8, pady=3, bd=0, highlightthickness=0, cursor="hand2")
        # With an image, a Button's width is in pixels: icon + the padx Tk puts between icon and text + the
        # longer label, so "Resume" is never clipped and the bar keeps its size when the label changes.
        pause_width = ICON + 8 + max(text_font.measure(t) for t in PAUSE_LABELS)
        stop_width = ICON + 8 + text_font.measure("Stop")
        self.pause_button = tk.Button(win, text=PAUSE_LABELS[0], image=self._icons["pause"], width=pause_width,
                                      command=on_toggle_pause, bg=BUTTON_BG, activebackground="#4a4a4a", **button)
        self.pause_button.pack(side="left", padx=(0, 4), pady=4)
        if microphone is not None:
            self.meter = tk.Canvas(win, width=METER_W, height=METER_H, background=BUTTON_BG, highlightthickness=0,
                                   bd=0)
            self.meter.pack(side="left", padx=(4, 4), before=self.pause_button)
            mute_width = ICON + 8 + max(text_font.measure(t) for t in MUTE_LABELS)
            self.mute_button = tk.Button(win, text=MUTE_LABELS[0], image=self._icons["mic"], width=mute_width,
                                         command=self.toggle_mute, bg=BUTTON_BG, activebackground="#4a4a4a",
                                         **button)
            self.mute_button.pack(side="left", padx=(0, 4), pady=4, before=self.pause_button)
            for key in ("<KeyPress-m>", "<KeyPress-M>"):
                win.bind(key, lambda _e: self.toggle_mute())
            win.bind("<ButtonPress>", lambda _e: win.focus_force(), add="+")
        self.stop_button = tk.Button(win, text="Stop", image=self._icons["stop"], width=stop_width,
                                     command=on_stop, bg=RED, activebackground="#ef5350", **button)
        self.stop_button.pack(side="left", padx=(0, 5), pady=4)
        win.update_idletasks()
        self.size = (win.winfo_reqwidth(), win.winfo_reqheight())
        self.geometry: tuple[int, int, int, int] | None = None
        self._job: Any = None
        self._meter_job: Any = None
        self._shown_paused: bool | None = None
        self._shown_muted: bool | None = None
        self._tick()
        if microphone is not None:
            self._meter_tick()
        if show:
            self.show_at(*place_outside(region, screen, *self.size))

    def show_at(self, x: int, y: int) -> None:
        w, h = self.size
        self.window.geometry(f"{w}x{h}+{x}+{y}")
        self.window.deiconify()
        self.window.lift()
        self.geometry = (x, y, w, h)

    def _draw_state(self, paused: bool) -> None:
        c = self.status
        c.delete("all")
        if paused:
            c.create_rectangle(2, 1, 5, 13, fill=AMBER, outline="")
            c.create_rectangle(9, 1, 12, 13, fill=AMBER, outline="")
        else:
            c.create_oval(1, 1, 13, 13, fill=RED, outline="")

    def _tick(self) -> None:
        paused = bool(self._paused())
        self.label.configure(text=format_elapsed(self._elapsed()))
        if paused is not self._shown_paused:
            self._shown_paused = paused
            self._draw_state(paused)
            self.pause_button.configure(text=PAUSE_LABELS[1] if paused else PAUSE_LABELS[0],
                                        image=self._icons["play" if paused else "pause"])
        self._job = self.window.after(250, self._tick)

    def toggle_mute(self) -> None:
        """Mute or unmute the microphone (the button, the M key)."""
        if self.microphone is not None:
            self.microphone.toggle()
            self._draw_meter()

    def _draw_meter(self) -> None:
        muted = bool(self.microphone.muted)
        self.meter_level = 0.0 if muted else float(self.microphone.level())
        c = self.meter
        c.delete("all")
        if muted:
            c.create_rectangle(0, 0, METER_W, METER_H, fill=GREY, outline="")
            c.create_line(2, METER_H - 2, METER_W - 2, 2, fill=RED, width=2)
        else:
            filled = round(meter_fraction(self.meter_level) * METER_W)
            if filled:
                c.create_rectangle(0, 0, filled, METER_H, fill=RED if self.meter_level >= 0.99 else GREEN,
                                   outline="")
        if muted is not self._shown_muted:
            self._shown_muted = muted
            self.mute_button.configure(text=MUTE_LABELS[1] if muted else MUTE_LABELS[0])

    def _meter_tick(self) -> None:
        self._draw_meter()
        self._meter_job = self.window.after(METER_MS, self._meter_tick)

    def close(self) -> None:
        for job in (self._job, self._meter_job):
            if job is not None:
                self.window.after_cancel(job)
        self._job = self._meter_job = None
        self.window.destroy()


def open_control(root: Any, region: Region, screen: Region, *, exclude_from_capture: Callable[[Any], bool] | None
                 = None, **callbacks: Any) -> RecordingControl | None:
    """The bar where the recording cannot see it: outside ``region`` when there is room on ``screen``; else in
    the screen's corner when the OS keeps it out of captures; else None (nothing shown, see the module docstring).
    ``callbacks``: RecordingControl's on_stop, on_toggle_pause, elapsed, paused, microphone."""
    if exclude_from_capture is None:
        from tray.ui.capture_exclusion import exclude_from_capture
    control = RecordingControl(root, region, screen, show=False, **callbacks)
    spot = find_room_outside(region, screen, *control.size)
    if spot is None and exclude_from_capture(control.window):
        spot = place_outside(region, screen, *control.size)
    if spot is None:
        control.close()
        return None
    control.show_at(*spot)
    return control
