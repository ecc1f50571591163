"""The text tool's input box: colours that keep the typed text readable, and a place inside the canvas.

Pure functions (no Tk), used by the window on the Tk thread and by unit tests without a display.

* The box's background is whichever of a light and a dark one contrasts more with the text colour (WCAG contrast
  ratio of relative luminances), so white or yellow text is typed on dark grey and red or black text on white --
  never white on white.
* The box lies wholly inside the canvas: opened near the right or bottom edge it is moved left or up (the text is
  then placed where the box is, so what was typed lands where it was seen), and it is never wider than the canvas.
"""

from __future__ import annotations

from typing import Sequence

ENTRY_LIGHT = "#ffffff"
ENTRY_DARK = "#262626"


def relative_luminance(rgb: Sequence[int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 = black, 1 = white)."""
    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Sequence[int], b: Sequence[int]) -> float:
    """WCAG contrast ratio, 1 (same luminance) to 21 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def entry_background(text_rgb: Sequence[int]) -> str:
    """:data:`ENTRY_LIGHT` or :data:`ENTRY_DARK`, whichever the text colour stands out on more."""
    light = contrast_ratio(text_rgb, hex_rgb(ENTRY_LIGHT))
    dark = contrast_ratio(text_rgb, hex_rgb(ENTRY_DARK))
    return ENTRY_LIGHT if light >= dark else ENTRY_DARK


def clamp_box(x: float, y: float, width: float, height: float, area_width: float,
              area_height: float) -> tuple[float, float, float]:
    """Top-left corner and width of a ``width`` x ``height`` box wanted at (``x``, ``y``), moved left/up just enough
    to lie inside ``area_width`` x ``area_height`` (and narrowed to the area's width if wider). Returns
    ``(x, y, width)``. A box taller than the area sits at its top."""
    width = min(width, area_width)
    x = max(0.0, min(x, area_width - width))
    y = max(0.0, min(y, area_height - height))
    return x, y, width
