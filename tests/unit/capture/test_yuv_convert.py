"""BGRA -> yuv420p for the encoder (tray/capture/yuv.py, issue 21 goal 1): swscale by default (exact BT.601 luma),
libyuv's ARGBToI420 into the frame's planes with SNAPLARK_LIBYUV=1 (chroma the 2x2 mean; swscale still scales).
Real libyuv (apt libyuv0), real PyAV/libvpx; no display."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tray.capture import yuv
from tray.capture.encoder import WebmVp9Writer

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")

W, H = 64, 48


def bt601(bgra):
    """Float BT.601 limited-range Y, U, V of a BGRA picture (full resolution)."""
    b, g, r = (bgra[..., i].astype(np.float64) for i in range(3))
    return (16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255, 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255,
            128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255)


def box2(plane):
    h, w = plane.shape
    return plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def planes(frame):
    out = []
    for i, p in enumerate(frame.planes):
        w = frame.width if i == 0 else frame.width // 2
        out.append(np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[:, :w].astype(np.float64))
    return out


def picture():
    """A gradient with 1-pixel lines of saturated colour (red on even rows, blue on even columns below): every 2x2
    block mixes colours, so chroma taken from one row or one pixel of the block (swscale POINT) is far from the
    block's mean."""
    y, x = np.mgrid[0:H, 0:W]
    img = np.zeros((H, W, 4), np.uint8)
    img[..., 0] = x * 255 // (W - 1)
    img[..., 1] = y * 255 // (H - 1)
    img[..., 2] = 90
    img[..., 3] = 255
    img[0:H // 2:2] = (0, 0, 255, 255)  # red rows on the top half
    img[H // 2:, 0::2] = (255, 0, 0, 255)  # blue columns on the bottom half
    return img


@pytest.fixture
def libyuv(monkeypatch):
    monkeypatch.setenv("SNAPLARK_LIBYUV", "1")
    # CI installs libyuv0 (.ci/apt-packages): without it SNAPLARK_LIBYUV=1 silently takes the swscale path
    assert yuv.libyuv_argb_to_i420() is not None


def test_by_default_it_is_swscale_with_luma_exact_to_the_bt601_formula(monkeypatch):
    monkeypatch.delenv("SNAPLARK_LIBYUV", raising=False)
    assert yuv.libyuv_argb_to_i420() is None
    img = picture()
    got_y, _u, _v = planes(yuv.make_converter(W, H)(W, H, img.tobytes()))
    assert np.abs(got_y - np.rint(bt601(img)[0])).max() <= 1
    assert np.mean(got_y != np.rint(bt601(img)[0])) < 0.01  # libyuv: 1 level off on ~10 % of a desktop's pixels


@pytest.mark.parametrize("kind", [bytes, bytearray])
def test_libyuv_frames_are_bt601_with_chroma_the_mean_of_each_2x2_block(libyuv, kind):
    img = picture()
    frame = yuv.make_converter(W, H)(W, H, kind(img.tobytes()))
    assert (frame.format.name, frame.width, frame.height) == ("yuv420p", W, H)
    got_y, got_u, got_v = planes(frame)
    ref_y, ref_u, ref_v = bt601(img)
    assert np.abs(got_y - ref_y).max() <= 1.5
    assert np.abs(got_u - box2(ref_u)).max() <= 2.5
    assert np.abs(got_v - box2(ref_v)).max() <= 2.5


def test_each_call_returns_a_new_frame_that_the_next_grab_does_not_change(libyuv):
    convert = yuv.make_converter(W, H)
    first = convert(W, H, picture().tobytes())
    kept = [p.copy() for p in planes(first)]
    convert(W, H, np.zeros((H, W, 4), np.uint8).tobytes())
    assert all(np.array_equal(a, b) for a, b in zip(kept, planes(first)))


def test_a_grab_of_another_size_is_scaled_and_a_short_buffer_is_refused(libyuv):
    convert = yuv.make_converter(W, H)
    big = np.repeat(np.repeat(picture(), 2, axis=0), 2, axis=1)  # 2x: scaled back down by swscale
    frame = convert(2 * W, 2 * H, big.tobytes())
    assert (frame.width, frame.height) == (W, H)
    assert np.abs(planes(frame)[0] - bt601(picture())[0]).mean() < 3
    with pytest.raises(ValueError):
        convert(W, H, b"\0" * (W * H * 4 - 1))


def test_a_libyuv_recording_decodes_to_the_grabbed_pictures(libyuv, tmp_path: Path):
    """Through the writer's converter, libvpx and back: every decoded frame is the BGRA picture it came from
    (luma PSNR and chroma against the 2x2 mean)."""
    out = tmp_path / "c.webm"
    w = WebmVp9Writer(out, W, H, fps=30, bitrate=2_000_000, on_durable=lambda n: None, clock=time.monotonic)
    w.open()
    rng = np.random.default_rng(3)
    pics = []
    for i in range(10):
        img = picture()
        img[8:24, 8 + 3 * i:24 + 3 * i, :3] = rng.integers(0, 255, 3, dtype=np.uint8)  # a moving block
        pics.append(img)
        w.encode(W, H, img.tobytes(), i * 33)
    w.close()
    with av.open(str(out)) as c:
        decoded = [planes(f) for f in c.decode(video=0)]
    assert len(decoded) == len(pics)
    for (y, u, v), img in zip(decoded, pics):
        ref_y, ref_u, ref_v = bt601(img)
        psnr = 10 * np.log10(255 ** 2 / np.mean((y - ref_y) ** 2))
        assert psnr > 30, psnr
        assert np.abs(u - box2(ref_u)).mean() < 4 and np.abs(v - box2(ref_v)).mean() < 4
