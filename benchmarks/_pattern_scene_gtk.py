"""The recording benchmark's pattern (benchmarks/_pattern_scene.py) drawn by GTK 3, so one program shows the same
scene as a native Wayland window (``GDK_BACKEND=wayland``: full screen under sway) and as an X11 window
(``GDK_BACKEND=x11`` under Xvfb: undecorated at 0,0, screen-sized; there is no window manager).

Same protocol as ``_pattern_scene.run_window`` (stdin/stdout): draws the static part, prints ``background``; on a
``go`` line shows the bars and the code of step 0, prints ``going`` and (moving scene) steps ``n`` every
``STEP_MS``. The bars and the code cells are filled at integer pixel edges with opaque colours, so they are painted
exactly as ``_pattern_scene.reference`` paints them on a lossless grab of the background (``check_reference`` in
the benchmark proves it on each side). GTK draws each frame off screen and presents it whole (a Wayland buffer
commit; on X11 one copy from the back buffer), so a grab sees the bars and the code of one step.

Usage (by benchmarks/wayland_recording.py): ``python benchmarks/_pattern_scene_gtk.py '<PatternScene JSON>'``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pattern_scene import CELL, STEP_MS, PatternScene


def run_window(scene: PatternScene) -> None:
    import gi

    gi.require_version("Gtk", "3.0")
    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk, GLib, Gtk

    display = Gdk.Display.get_default()
    wayland = display is not None and "Wayland" in type(display).__name__
    want = os.environ.get("GDK_BACKEND", "")
    if display is None or (want == "wayland") != wayland:
        print(f"wrong display: {type(display).__name__ if display else None} for GDK_BACKEND={want!r}", flush=True)
        sys.exit(3)
    w, h = scene.width, scene.height
    win = Gtk.Window(title="snaplark-bench-pattern")
    win.set_decorated(False)
    area = Gtk.DrawingArea()
    area.set_size_request(w, h)
    win.add(area)
    state = {"n": 0, "shown": False, "told": False}
    cx, cy = scene.code_origin()

    def draw(widget, cr) -> bool:
        aw, ah = widget.get_allocated_width(), widget.get_allocated_height()
        cr.set_source_rgb(0x20 / 255, 0x28 / 255, 0x30 / 255)
        cr.paint()
        for i in range(0, w, 64):
            cr.set_source_rgb((40 + i * 200 // w) / 255, 60 / 255, (200 - i * 150 // w) / 255)
            cr.rectangle(i, 0, 64, h // 3 + 1)
            cr.fill()
        cr.set_source_rgb(0xE0 / 255, 0xE0 / 255, 0xE0 / 255)
        cr.select_font_face("Sans")
        cr.set_font_size(21)
        for j in range(12):
            cr.move_to(40, h // 3 + 37 + j * 28)
            cr.show_text(f"The quick brown fox jumps over the lazy dog {j}")
        if state["shown"]:
            for x0, y0, x1, y1, (r, g, b) in scene.bars(state["n"]):
                cr.set_source_rgb(r / 255, g / 255, b / 255)
                cr.rectangle(x0, y0, x1 - x0, y1 - y0)
                cr.fill()
            for i, bit in enumerate(scene.code_bits(state["n"])):
                cr.set_source_rgb(*((1, 1, 1) if bit else (0, 0, 0)))
                cr.rectangle(cx + i * CELL, cy, CELL, CELL)
                cr.fill()
        if not state["told"] and (aw, ah) == (w, h):
            state["told"] = True
            GLib.timeout_add(500, lambda: print("background", flush=True) and False)
        return False

    def step() -> bool:
        state["n"] += 1
        area.queue_draw()
        return True

    def started() -> bool:
        print("going", flush=True)
        if scene.moving:
            GLib.timeout_add(STEP_MS, step)
        return False

    def go(_channel, _cond) -> bool:
        sys.stdin.readline()
        state["shown"] = True
        area.queue_draw()
        GLib.timeout_add(200, started)
        return False

    area.connect("draw", draw)
    win.connect("destroy", Gtk.main_quit)
    if wayland:
        win.fullscreen()
    else:
        win.move(0, 0)
        win.set_default_size(w, h)
    win.show_all()
    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT, GLib.IO_IN, go)
    Gtk.main()


if __name__ == "__main__":
    run_window(PatternScene(**json.loads(sys.argv[1])))
