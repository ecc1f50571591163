"""The annotator's one Pillow font: BASIC layout (never Raqm, which GTK in the tray process breaks: see
tray/ui/annotator/tools/fonts.py and tests/e2e/ui/test_export_with_gtk.py), also for the built-in fallback, and
no other code under tray/ or platform/ makes its own Pillow fonts or draws text without it."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from PIL import ImageFont, features

from tray.ui.annotator.tools import fonts
from tray.ui.annotator.tools.fonts import pil_font

REPO = Path(__file__).resolve().parents[3]
TEXT_CALLS = {"text", "multiline_text", "textbbox", "multiline_textbbox", "textlength"}
FONT_MAKERS = {"truetype", "load_default", "load_default_imagefont", "FreeTypeFont", "load", "load_path"}


@pytest.mark.parametrize("bold", [False, True])
def test_pil_font_uses_basic_layout(bold):
    font = pil_font(26, bold=bold)
    assert isinstance(font, ImageFont.FreeTypeFont)
    assert font.layout_engine == ImageFont.Layout.BASIC
    l, t, r, b = font.getbbox("Bug is here!")
    assert 100 < r - l < 250 and 15 < b - t < 40, (l, t, r, b)


@pytest.fixture
def no_font_files(monkeypatch):
    """Every TrueType file lookup fails, as on a system without DejaVu/Arial/Noto (Pillow's own data still loads)."""
    real = ImageFont.truetype

    def truetype(font, *args, **kwargs):
        if isinstance(font, (str, Path)):
            raise OSError(f"cannot open resource {font}")
        return real(font, *args, **kwargs)

    monkeypatch.setattr(fonts.ImageFont, "truetype", truetype)
    pil_font.cache_clear()
    yield
    pil_font.cache_clear()


def test_fallback_font_also_uses_basic_layout(no_font_files):
    font = pil_font(26)
    if isinstance(font, ImageFont.FreeTypeFont):  # Pillow >= 10.1: Aileron at the size asked for
        assert font.layout_engine == ImageFont.Layout.BASIC
        l, _, r, _ = font.getbbox("Bug is here!")
        assert r - l > 80, (l, r)


def test_fallback_is_made_basic_if_pillow_hands_out_raqm(no_font_files, monkeypatch):
    if not features.check("raqm"):
        pytest.skip("this Pillow has no Raqm: nothing to switch away from")
    real = ImageFont.load_default

    def load_default(size=None):
        font = real(size=size)
        return ImageFont.truetype(io.BytesIO(font.font_bytes), size, layout_engine=ImageFont.Layout.RAQM)

    monkeypatch.setattr(fonts.ImageFont, "load_default", load_default)
    font = pil_font(26)
    assert isinstance(font, ImageFont.FreeTypeFont) and font.layout_engine == ImageFont.Layout.BASIC


def _sources():
    for top in ("tray", "platform"):
        for path in sorted((REPO / top).rglob("*.py")):
            if "build" not in path.relative_to(REPO).parts:
                yield path


def test_every_pillow_font_and_text_goes_through_pil_font():
    """No Pillow font is made outside fonts.py, and every text drawn into an image is given ``pil_font(...)``
    (no ``font=``: Pillow's 10 px default, no layout choice of ours)."""
    fonts_py = Path(fonts.__file__).resolve()
    bad = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(REPO)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in FONT_MAKERS and path.resolve() != fonts_py \
                    and isinstance(node.value, ast.Name) and node.value.id == "ImageFont":
                bad.append(f"{where}:{node.lineno}: ImageFont.{node.attr} outside fonts.py")
            if isinstance(node, ast.ImportFrom) and node.module == "PIL" and path.resolve() != fonts_py \
                    and any(a.name == "ImageFont" for a in node.names):
                bad.append(f"{where}:{node.lineno}: imports ImageFont (use tools.fonts.pil_font)")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in TEXT_CALLS:
                font = next((k.value for k in node.keywords if k.arg == "font"), None)
                if not (isinstance(font, ast.Call) and isinstance(font.func, ast.Name) and font.func.id == "pil_font"):
                    bad.append(f"{where}:{node.lineno}: .{node.func.attr}(...) without font=pil_font(...)")
    assert not bad, "\n".join(bad)
