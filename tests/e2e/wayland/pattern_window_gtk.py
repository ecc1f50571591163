"""A full-screen native Wayland window (GTK 3, ``GDK_BACKEND=wayland``) with a known pattern, run as a subprocess.

Static part: solid rectangles red (100,100,200,120), green (300,100,200,120), blue (100,220,200,120),
white (300,220,200,120) on black. Moving part: a yellow bar 40 px wide crossing the band y = 400..500, 8 px per step
every ``--interval-ms``. Prints ``ready <width>x<height>`` once the window has been drawn full screen (checked as a
native Wayland window: it exits with an error if GDK did not pick the Wayland backend).
"""

import argparse
import sys

SOLIDS = {"red": (100, 100, 200, 120, (1, 0, 0)), "green": (300, 100, 200, 120, (0, 1, 0)),
          "blue": (100, 220, 200, 120, (0, 0, 1)), "white": (300, 220, 200, 120, (1, 1, 1))}
BAR_TOP, BAR_HEIGHT, BAR_WIDTH, BAR_STEP = 400, 100, 40, 8


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval-ms", type=int, default=33)
    a = ap.parse_args()
    import gi

    gi.require_version("Gtk", "3.0")
    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk, GLib, Gtk

    display = Gdk.Display.get_default()
    if display is None or "Wayland" not in type(display).__name__:
        print(f"not a Wayland display: {type(display).__name__ if display else None}", flush=True)
        sys.exit(3)
    win = Gtk.Window(title="snaplark-wayland-pattern")
    area = Gtk.DrawingArea()
    win.add(area)
    pos = [0]
    told = [False]

    def draw(widget, cr) -> bool:
        w, h = widget.get_allocated_width(), widget.get_allocated_height()
        cr.set_source_rgb(0, 0, 0)
        cr.paint()
        for x, y, rw, rh, rgb in SOLIDS.values():
            cr.set_source_rgb(*rgb)
            cr.rectangle(x, y, rw, rh)
            cr.fill()
        cr.set_source_rgb(1, 1, 0)
        cr.rectangle(pos[0], BAR_TOP, BAR_WIDTH, BAR_HEIGHT)
        cr.fill()
        if not told[0] and win.get_window() is not None and (win.get_window().get_state()
                                                            & Gdk.WindowState.FULLSCREEN):
            told[0] = True
            GLib.timeout_add(300, lambda: print(f"ready {w}x{h}", flush=True) and False)
        return False

    def step() -> bool:
        width = area.get_allocated_width()
        pos[0] = (pos[0] + BAR_STEP) % max(1, width - BAR_WIDTH)
        area.queue_draw()
        return True

    area.connect("draw", draw)
    win.connect("destroy", Gtk.main_quit)
    win.fullscreen()
    win.show_all()
    GLib.timeout_add(a.interval_ms, step)
    Gtk.main()


if __name__ == "__main__":
    main()
