"""The blur tool must destroy the original pixels in the export (not just cover them on screen)."""

from PIL import ImageStat

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import ToolKind
from tray.ui.annotator.tools.pixelate import pixelate

from .helpers import RED, gesture, noise, pixels, px, white


def _variance(img):
    return sum(ImageStat.Stat(img).var) / 3


def _find(haystack, needle) -> bool:
    """Exact sub-image search on rows: does ``needle`` appear anywhere in ``haystack``?"""
    hw, hh = haystack.size
    nw, nh = needle.size
    h_rows = [haystack.crop((0, y, hw, y + 1)).tobytes() for y in range(hh)]
    first = needle.crop((0, 0, nw, 1)).tobytes()
    n_rows = [needle.crop((0, y, nw, y + 1)).tobytes() for y in range(nh)]
    for y in range(hh - nh + 1):
        start = h_rows[y].find(first)
        while start != -1:
            if start % 3 == 0:
                x = start // 3
                if all(h_rows[y + k][x * 3:(x + nw) * 3] == n_rows[k] for k in range(nh)):
                    return True
            start = h_rows[y].find(first, start + 1)
    return False


def test_pixelate_destroys_high_entropy_pattern():
    base = white(200, 160)
    secret = noise(96, 64, seed=11)
    base.paste(secret, (40, 40))
    doc = AnnotationDocument(base)
    gesture(doc, ToolKind.PIXELATE, [(40, 40), (136, 104)], width=2)
    out = doc.render()
    exported = out.crop((40, 40, 136, 104))

    # pixel values differ almost everywhere
    same = sum(1 for a, b in zip(pixels(secret), pixels(exported)) if a == b)
    assert same < 0.01 * 96 * 64
    # variance collapses (cell means of uniform noise cluster around 128)
    assert _variance(exported) < 0.1 * _variance(secret)
    # no 8x8 patch of the original survives anywhere in the export, at any offset
    for (x, y) in [(0, 0), (17, 9), (50, 30), (88, 56)]:
        patch = secret.crop((x, y, x + 8, y + 8))
        assert _find(out, patch) is False
    # sanity: the search does find an untouched patch
    assert _find(base, secret.crop((17, 9, 25, 17))) is True
    # outside the region nothing changed
    assert px(out, 10, 10) == (255, 255, 255) and px(out, 150, 120) == (255, 255, 255)


def test_pixelate_export_png_contains_no_original_pixels():
    from io import BytesIO

    from PIL import Image

    base = noise(64, 64, seed=3)
    doc = AnnotationDocument(base)
    gesture(doc, ToolKind.PIXELATE, [(0, 0), (64, 64)])
    decoded = Image.open(BytesIO(doc.export_png())).convert("RGB")
    assert decoded.size == (64, 64)
    assert not _find(decoded, base.crop((20, 20, 28, 28)))
    assert _variance(decoded) < 0.1 * _variance(base)


def test_pixelate_cells_are_uniform():
    img = pixelate(noise(40, 40), 10)
    for cx in range(0, 40, 10):
        for cy in range(0, 40, 10):
            assert len(set(pixels(img.crop((cx, cy, cx + 10, cy + 10))))) == 1


def test_pixelate_applies_to_annotations_beneath_it():
    doc = AnnotationDocument(white(100, 100))
    gesture(doc, ToolKind.RECTANGLE, [(20, 20), (80, 80)], width=2)
    gesture(doc, ToolKind.PIXELATE, [(10, 10), (50, 50)])
    out = doc.render()
    # the crisp red outline at x=20 is averaged away inside the pixelated area, kept outside it
    assert px(out, 20, 30) != RED
    assert px(out, 20, 70) == RED


def test_pixelate_clipped_to_image_and_tiny_drag_ignored():
    doc = AnnotationDocument(noise(50, 50))
    gesture(doc, ToolKind.PIXELATE, [(30, 30), (90, 90)])
    gesture(doc, ToolKind.PIXELATE, [(5, 5), (6, 6)])
    assert len(doc.items) == 1
    out = doc.render()
    assert out.size == (50, 50)
    assert len(set(pixels(out.crop((32, 32, 40, 40))))) == 1
