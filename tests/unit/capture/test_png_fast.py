"""tray.capture.png_fast without a display: every PNG it writes decodes (Pillow) to exactly its input's pixels, for
grabs (BGRA, the 4th byte ignored) and Pillow RGB images, any size, with zlib-ng or the stdlib's zlib."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tray.capture import png_fast


def decoded_rgb(png: bytes) -> tuple[tuple[int, int], bytes]:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.mode == "RGB"
    return image.size, image.tobytes()


def bgra_to_rgb(bgra: bytes) -> bytes:
    return bytes(b for i in range(0, len(bgra), 4) for b in (bgra[i + 2], bgra[i + 1], bgra[i]))


@given(st.integers(1, 37), st.integers(1, 23), st.integers(0, 2**32 - 1), st.booleans())
def test_any_grab_round_trips_exactly(width, height, seed, smooth):
    rng = random.Random(seed)
    if smooth:  # long runs and rows like the row above, as on a screen
        row = bytes(rng.choice((0, 255, 128)) for _ in range(width * 4))
        bgra = b"".join(row if rng.random() < 0.7 else rng.randbytes(width * 4) for _ in range(height))
    else:
        bgra = rng.randbytes(width * height * 4)
    size, rgb = decoded_rgb(png_fast.encode_png(width, height, bytearray(bgra)))
    assert size == (width, height) and rgb == bgra_to_rgb(bgra)


@given(st.integers(1, 29), st.integers(1, 17), st.integers(0, 2**32 - 1))
def test_any_rgb_image_round_trips_exactly(width, height, seed):
    image = Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))
    assert decoded_rgb(png_fast.encode_image(image)) == ((width, height), image.tobytes())


def test_without_zlib_ng_the_stdlib_zlib_writes_the_same_pixels(monkeypatch):
    monkeypatch.setattr(png_fast, "deflater", lambda: (zlib, 1))
    bgra = random.Random(3).randbytes(64 * 48 * 4)
    assert decoded_rgb(png_fast.encode_png(64, 48, bgra)) == ((64, 48), bgra_to_rgb(bgra))


def test_zlib_ng_is_the_deflater_when_installed():
    pytest.importorskip("zlib_ng")
    module, level = png_fast.deflater()
    assert module.__name__.endswith("zlib_ng") and level == 3


def test_an_image_with_alpha_keeps_it():
    image = Image.new("RGBA", (5, 4), (10, 20, 30, 40))
    out = Image.open(io.BytesIO(png_fast.encode_image(image)))
    assert out.mode == "RGBA" and out.tobytes() == image.tobytes()


@pytest.mark.parametrize("width,height,data,needle", [
    (0, 10, b"", "must be positive, got 0x10"),
    (4, 4, bytes(4 * 4 * 4 - 1), "need 64 bytes, got 63"),
])
def test_bad_input_is_named(width, height, data, needle):
    with pytest.raises(ValueError, match=needle):
        png_fast.encode_png(width, height, data)


def test_an_unknown_layout_is_named():
    with pytest.raises(ValueError, match="'BGRA' or 'RGB', got 'ARGB'"):
        png_fast.encode_png(1, 1, bytes(4), layout="ARGB")
