"""A full-screen Tk window with a known test pattern, for the capture e2e tests (run as a subprocess).

Static part (pixel-exact checks): a 256x128 gradient at (0,0) where pixel (x, y) = (x, 2*y, (x + y) % 256), and
solid rectangles: red (300,0,200,120), green (500,0,200,120), blue (300,120,200,120), white (500,120,200,120).
Moving part: a yellow bar 40 px wide crossing the band y = 260..360 (~30 updates/s, 7 px a step); with --noise a
64x64 square of random pixels at (700,260) changes on every step (for tests that need a steady bitrate).
Prints "ready" once the window is drawn.
"""

import argparse
import random
import sys
import tkinter as tk

SOLIDS = {"red": (300, 0, 200, 120, "#ff0000"), "green": (500, 0, 200, 120, "#00ff00"),
          "blue": (300, 120, 200, 120, "#0000ff"), "white": (500, 120, 200, 120, "#ffffff")}


def gradient_ppm() -> bytes:
    w, h = 256, 128
    px = bytearray()
    for y in range(h):
        for x in range(w):
            px += bytes((x, 2 * y, (x + y) % 256))
    return b"P6 %d %d 255\n" % (w, h) + bytes(px)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--height", type=int, required=True)
    ap.add_argument("--noise", action="store_true")
    ap.add_argument("--interval-ms", type=int, default=33)
    a = ap.parse_args()
    root = tk.Tk()
    root.overrideredirect(True)
    root.geometry(f"{a.width}x{a.height}+0+0")
    c = tk.Canvas(root, width=a.width, height=a.height, bg="black", highlightthickness=0, bd=0)
    c.place(x=0, y=0)
    grad = tk.PhotoImage(data=gradient_ppm(), format="ppm")
    c.create_image(0, 0, image=grad, anchor="nw")
    for x, y, w, h, colour in SOLIDS.values():
        c.create_rectangle(x, y, x + w - 1, y + h - 1, fill=colour, outline=colour, width=0)
    bar = c.create_rectangle(0, 260, 39, 359, fill="#ffff00", outline="#ffff00", width=0)
    noise = tk.PhotoImage(width=64, height=64)
    if a.noise:
        c.create_image(700, 260, image=noise, anchor="nw")
    rng = random.Random(1)
    pos = [0]

    def step() -> None:
        pos[0] = (pos[0] + 7) % max(1, a.width - 40)
        c.coords(bar, pos[0], 260, pos[0] + 39, 359)
        if a.noise:
            rows = " ".join("{" + " ".join("#%06x" % rng.getrandbits(24) for _ in range(64)) + "}"
                            for _ in range(64))
            noise.put(rows)
        root.after(a.interval_ms, step)

    def ready() -> None:
        print("ready", flush=True)
        step()

    root.after(300, ready)
    root.mainloop()


if __name__ == "__main__":
    sys.exit(main())
