"""The recording benchmark's test pattern, and the exact picture it showed at any moment (the reference for SSIM/PSNR).

The window (``run_window``; the benchmark runs ``python benchmarks/_pattern_scene.py '<PatternScene JSON>'`` under
its Xvfb) fills the screen with a static part (a gradient strip, twelve lines of text) and a moving part that is a
pure function of a step counter ``n``: four solid bars at ``x = n * speed % (w - BAR_W)`` and a 32-cell black/white code
(``n`` in 16 bits, then its complement, so a misread code is detected, never taken for another ``n``). In the
"moving" scene ``n`` goes up every 16 ms; in the "static" scene it stays 0.

Protocol on stdin/stdout: the window draws the static part only and prints ``background``; the benchmark grabs the
screen losslessly (mss, BGRA); it writes ``go``; the window shows the bars and the code for ``n = 0``, prints
``going`` and starts stepping (moving scene). ``reference(background, n)`` paints the moving part for ``n`` on that
grab, so any decoded frame can be compared with exactly what the screen showed when it was grabbed: the code in the
decoded frame tells ``n``. Tk redraws a canvas from an off-screen pixmap in one copy of one rectangle, so a grab sees
the bars and the code of the same ``n``. ``check_reference`` proves the painting pixel-exact against a live grab.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass

BAR_W, BAR_H = 80, 50
BAR_COLOURS = ((0xFF, 0xCC, 0x00), (0x00, 0xCC, 0xFF), (0xFF, 0x33, 0x66), (0x66, 0xFF, 0x66))
CODE_BITS, CELL = 32, 16
STEP_MS = 16


@dataclass(frozen=True)
class PatternScene:
    width: int
    height: int
    moving: bool

    def bars(self, n: int) -> list[tuple[int, int, int, int, tuple[int, int, int]]]:
        """(x0, y0, x1, y1, rgb) of each bar at step ``n``; Tk fills [x0, x1) x [y0, y1) (no outline)."""
        out = []
        for k, rgb in enumerate(BAR_COLOURS):
            x = (n * (5 + 3 * k)) % (self.width - BAR_W)
            y = self.height // 2 + k * 60
            out.append((x, y, x + BAR_W, y + BAR_H, rgb))
        return out

    def code_origin(self) -> tuple[int, int]:
        return self.width - CODE_BITS * CELL - 16, 8

    def code_bits(self, n: int) -> list[int]:
        value = (n & 0xFFFF) | ((~n & 0xFFFF) << 16)
        return [(value >> i) & 1 for i in range(CODE_BITS)]

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def reference(scene: PatternScene, background, n: int):
    """The BGRA picture (numpy, h x w x 4) the window showed at step ``n``, painted on the ``background`` grab."""
    img = background.copy()
    for x0, y0, x1, y1, (r, g, b) in scene.bars(n):
        img[y0:y1, x0:x1] = (b, g, r, 255)
    cx, cy = scene.code_origin()
    for i, bit in enumerate(scene.code_bits(n)):
        img[cy:cy + CELL, cx + i * CELL:cx + (i + 1) * CELL] = (255, 255, 255, 255) if bit else (0, 0, 0, 255)
    return img


def read_code(scene: PatternScene, luma) -> int | None:
    """``n`` from the code in a (decoded) luma plane, or None when it does not read back consistently."""
    cx, cy = scene.code_origin()
    q = CELL // 4
    value = 0
    for i in range(CODE_BITS):
        cell = luma[cy + q:cy + CELL - q, cx + i * CELL + q:cx + (i + 1) * CELL - q]
        if float(cell.mean()) > 128:
            value |= 1 << i
    n, check = value & 0xFFFF, value >> 16
    return n if check == (~n & 0xFFFF) else None


def check_reference(scene: PatternScene, background, grab) -> tuple[int, int]:
    """(n read from a lossless ``grab`` of the running window, pixels that differ from ``reference(n)``)."""
    import numpy as np

    luma = grab[:, :, :3].astype(np.float32) @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
    n = read_code(scene, luma)
    if n is None:
        raise RuntimeError("the pattern's code did not read back from a lossless grab")
    ref = reference(scene, background, n)
    return n, int(np.count_nonzero((ref[:, :, :3] != grab[:, :, :3]).any(axis=2)))


def run_window(scene: PatternScene) -> None:
    """The pattern window (this process's main thread runs Tk until it is terminated)."""
    import tkinter as tk

    w, h = scene.width, scene.height
    root = tk.Tk()
    root.overrideredirect(True)
    root.geometry(f"{w}x{h}+0+0")
    c = tk.Canvas(root, width=w, height=h, bg="#202830", highlightthickness=0, bd=0)
    c.place(x=0, y=0)
    for i in range(0, w, 64):
        shade = "#%02x%02x%02x" % (40 + i * 200 // w, 60, 200 - i * 150 // w)
        c.create_rectangle(i, 0, i + 63, h // 3, fill=shade, outline=shade)
    for j in range(12):
        c.create_text(40, h // 3 + 30 + j * 28, anchor="w", fill="#e0e0e0", font=("Helvetica", 16),
                      text="The quick brown fox jumps over the lazy dog %d" % j)
    bars = [c.create_rectangle(0, 0, 1, 1, fill="#%02x%02x%02x" % rgb, outline="", state="hidden")
            for rgb in BAR_COLOURS]
    cx, cy = scene.code_origin()
    cells = [c.create_rectangle(cx + i * CELL, cy, cx + (i + 1) * CELL, cy + CELL, outline="", state="hidden")
             for i in range(CODE_BITS)]
    n = 0

    def show():
        for item, (x0, y0, x1, y1, _rgb) in zip(bars, scene.bars(n)):
            c.coords(item, x0, y0, x1, y1)
        for item, bit in zip(cells, scene.code_bits(n)):
            c.itemconfigure(item, fill="#ffffff" if bit else "#000000")

    def step():
        nonlocal n
        n += 1
        show()
        root.after(STEP_MS, step)

    def started():
        print("going", flush=True)
        if scene.moving:
            step()

    def go(*_):
        sys.stdin.readline()
        root.tk.deletefilehandler(sys.stdin)
        show()
        for item in bars + cells:
            c.itemconfigure(item, state="normal")
        root.update_idletasks()
        root.after(200, started)

    root.tk.createfilehandler(sys.stdin, tk.READABLE, go)
    root.after(300, lambda: print("background", flush=True))
    root.mainloop()


if __name__ == "__main__":  # run by benchmarks/recording.py
    run_window(PatternScene(**json.loads(sys.argv[1])))
