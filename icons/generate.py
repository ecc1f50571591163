"""Generate the tray/app icons (PNG 16..512 per state, plus snaplark.ico / snaplark.icns) with Pillow.

Run: ``python icons/generate.py`` (writes next to this file; the outputs are committed).
Drawing mirrors ``snaplark.svg`` (the source artwork): a rounded blue tile with white viewfinder corners and a
lens dot; each state adds a badge in the lower right. Drawn at 4x and downsampled (LANCZOS) for clean edges;
16 px uses thicker strokes so it stays readable in a tray.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
STATES = ("idle", "recording", "uploading", "offline", "needs-login")

BLUE = (37, 99, 235, 255)
GREY = (120, 126, 136, 255)
WHITE = (255, 255, 255, 255)
RED = (225, 29, 72, 255)
GREEN = (22, 163, 74, 255)
AMBER = (245, 158, 11, 255)
DARK = (30, 30, 30, 255)


def draw(state: str, size: int) -> Image.Image:
    s = 4 * size
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    u = s / 64  # design units: 64x64 like the SVG viewBox
    small = size <= 24
    tile = GREY if state == "offline" else BLUE
    d.rounded_rectangle([2 * u, 2 * u, 62 * u, 62 * u], radius=12 * u, fill=tile)
    # viewfinder corners
    w = (6 if small else 4.5) * u
    a, b, L = 13 * u, 51 * u, 11 * u
    for x, y, dx, dy in ((a, a, 1, 1), (b, a, -1, 1), (a, b, 1, -1), (b, b, -1, -1)):
        d.line([(x, y + dy * L), (x, y), (x + dx * L, y)], fill=WHITE, width=round(w), joint="curve")
    r = (7 if small else 6) * u
    d.ellipse([32 * u - r, 32 * u - r, 32 * u + r, 32 * u + r], fill=WHITE)

    if state == "idle":
        return _down(img, size)
    # badge: circle lower right
    cx, cy, br = 47 * u, 47 * u, (17 if small else 15) * u
    ring = 3 * u
    colour = {"recording": RED, "uploading": GREEN, "offline": DARK, "needs-login": AMBER}[state]
    d.ellipse([cx - br - ring, cy - br - ring, cx + br + ring, cy + br + ring], fill=WHITE)
    d.ellipse([cx - br, cy - br, cx + br, cy + br], fill=colour)
    sw = round((4.5 if small else 3.5) * u)
    if state == "recording":
        rr = br * 0.45
        d.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=WHITE)
    elif state == "uploading":
        h = br * 0.6
        d.line([(cx, cy + h), (cx, cy - h)], fill=WHITE, width=sw)
        d.line([(cx - h * 0.8, cy - h * 0.1), (cx, cy - h), (cx + h * 0.8, cy - h * 0.1)], fill=WHITE, width=sw,
               joint="curve")
    elif state == "offline":
        h = br * 0.5
        d.line([(cx - h, cy - h), (cx + h, cy + h)], fill=WHITE, width=sw)
        d.line([(cx - h, cy + h), (cx + h, cy - h)], fill=WHITE, width=sw)
    elif state == "needs-login":
        h = br * 0.55
        d.line([(cx, cy - h), (cx, cy + h * 0.25)], fill=DARK, width=sw)
        dr = sw * 0.6
        d.ellipse([cx - dr, cy + h * 0.75 - dr, cx + dr, cy + h * 0.75 + dr], fill=DARK)
    return _down(img, size)


def _down(img: Image.Image, size: int) -> Image.Image:
    return img.resize((size, size), Image.LANCZOS)


def main(out: Path = HERE) -> int:
    for state in STATES:
        for size in SIZES:
            path = out / f"{state}-{size}.png"
            draw(state, size).save(path, optimize=True)
    big = draw("idle", 256)
    big.save(out / "snaplark.ico", sizes=[(n, n) for n in (16, 24, 32, 48, 64, 128, 256)])
    # macOS app icon: each size drawn, not scaled (Pillow writes the ICNS container on any OS)
    draw("idle", 1024).save(out / "snaplark.icns", append_images=[draw("idle", n) for n in (16, 32, 64, 128, 256, 512)])
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
