"""One font for both back ends: Pillow loads the TrueType file, Tk asks for the same family by name."""

from __future__ import annotations

from functools import lru_cache

from PIL import ImageFont

TK_FAMILY = "DejaVu Sans"
_CANDIDATES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "Arial.ttf", "arial.ttf", "Helvetica.ttc",
               "NotoSans-Regular.ttf")


@lru_cache(maxsize=32)
def pil_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = (("DejaVuSans-Bold.ttf", "Arial Bold.ttf") if bold else ()) + _CANDIDATES
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def tk_font(size_px: float, bold: bool = False) -> tuple:
    """Tk font spec in *pixels* (a negative size means pixels in Tk)."""
    spec: tuple = (TK_FAMILY, -max(1, int(round(size_px))))
    return spec + ("bold",) if bold else spec
