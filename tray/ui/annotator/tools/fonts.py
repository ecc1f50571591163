"""One font for both back ends: Pillow loads the TrueType file, Tk asks for the same family by name.

Every Pillow font of the annotator comes from :func:`pil_font`, and every one uses Pillow's BASIC layout engine
(FreeType only), never Raqm. The tray process loads GTK 3 (pystray's gtk backend, through PyGObject) before the
annotator, and gobject-introspection opens libgtk with RTLD_GLOBAL: the system libharfbuzz and libfreetype it pulls
in come first in symbol lookup for Pillow's ``_imagingft``, loaded later (LD_DEBUG=bindings: its hb_* and FT_*
calls, and many of its bundled HarfBuzz's own, bind to the system copies). Raqm then lays text out through a mix of
two HarfBuzz versions and returns garbage (``getbbox("Bug is here!")`` -> ``(0, 5, 3055982, 30)``): exported text
kept only its first glyph and counters lost their number. BASIC layout does not use HarfBuzz, and renders
pixel-identically with or without GTK in the process (tests/e2e/ui/test_export_with_gtk.py checks it). It does no
complex-script shaping; neither does Tk 8.6's canvas text, which is what the user sees while annotating.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import ImageFont

TK_FAMILY = "DejaVu Sans"
_CANDIDATES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "Arial.ttf", "arial.ttf", "Helvetica.ttc",
               "NotoSans-Regular.ttf")
LAYOUT = ImageFont.Layout.BASIC


@lru_cache(maxsize=32)
def pil_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The annotator's font at ``size`` px (BASIC layout; see the module docstring). Cached: fonts are immutable."""
    names = (("DejaVuSans-Bold.ttf", "Arial Bold.ttf") if bold else ()) + _CANDIDATES
    for name in names:
        try:
            return ImageFont.truetype(name, size, layout_engine=LAYOUT)
        except OSError:
            continue
    return _default_font(size)


def _default_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font when no TrueType file is found, also with BASIC layout."""
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: no size argument (a fixed-size bitmap font, no layout engine)
        return ImageFont.load_default()
    data = getattr(font, "font_bytes", None)
    if isinstance(font, ImageFont.FreeTypeFont) and font.layout_engine != LAYOUT and data:
        # Pillow >= 10.1 already loads it with BASIC; this keeps that promise should a release change it
        return ImageFont.truetype(io.BytesIO(data), size, layout_engine=LAYOUT)
    return font


def tk_font(size_px: float, bold: bool = False) -> tuple:
    """Tk font spec in *pixels* (a negative size means pixels in Tk)."""
    spec: tuple = (TK_FAMILY, -max(1, int(round(size_px))))
    return spec + ("bold",) if bold else spec
