"""Helpers for the recording-UI e2e tests (uniquely named so it never collides with another conftest's helpers)."""

from __future__ import annotations

import io
import subprocess
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "recording"


def pump(root, seconds: float) -> None:
    """Run the Tk loop (timers, posted callables) for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        root.update()
        time.sleep(0.01)


def pump_until(root, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        root.update()
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def grab_screen(save_as: Path | None = None) -> np.ndarray:
    """The whole screen of $DISPLAY as an RGB array (``import -window root``), optionally saved as PNG too."""
    from PIL import Image

    png = subprocess.run(["import", "-window", "root", "png:-"], check=True, capture_output=True, timeout=20).stdout
    img = Image.open(io.BytesIO(png)).convert("RGB")
    if save_as is not None:
        save_as.parent.mkdir(parents=True, exist_ok=True)
        img.save(save_as)
    return np.asarray(img)


def decode_frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]


def near_colour(img: np.ndarray, rgb: tuple[int, int, int], tol: int) -> np.ndarray:
    """Mask of the pixels within ``tol`` of ``rgb`` on every channel."""
    return (np.abs(img.astype(int) - np.array(rgb)) <= tol).all(axis=2)


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def block_differences(frame: np.ndarray, reference: np.ndarray, block: int = 16) -> np.ndarray:
    """Mean absolute difference per ``block`` x ``block`` tile (lossy video against the exact screen)."""
    h, w = (frame.shape[0] // block) * block, (frame.shape[1] // block) * block
    d = np.abs(frame[:h, :w].astype(int) - reference[:h, :w].astype(int)).mean(axis=2)
    return d.reshape(h // block, block, w // block, block).mean(axis=(1, 3))


def font_file(pattern: str) -> str:
    return subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True,
                          timeout=10).stdout.strip()


def read_digit(img: np.ndarray, font_pattern: str = "DejaVu Sans:bold") -> tuple[str, float]:
    """Which digit the white (> 220) pixels of ``img`` show: each digit is drawn with the font the countdown uses
    (PIL/FreeType), cropped to its ink and compared by overlap (intersection over union) after scaling both to one
    size. Returns (best digit, its overlap); ("", 0.0) when there is no white ink."""
    from PIL import Image, ImageDraw, ImageFont

    mask = img.min(axis=2) > 220
    if mask.sum() < 50:
        return "", 0.0
    size = (48, 64)

    def normalised(m: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero(m)
        crop = Image.fromarray((m[ys.min():ys.max() + 1, xs.min():xs.max() + 1] * 255).astype(np.uint8))
        return np.asarray(crop.resize(size, Image.BILINEAR)) > 127

    seen = normalised(mask)
    font = ImageFont.truetype(font_file(font_pattern), 120)
    best = ("", 0.0)
    for d in "0123456789":
        canvas = Image.new("L", (200, 200), 0)
        ImageDraw.Draw(canvas).text((20, 10), d, fill=255, font=font)
        ref = normalised(np.asarray(canvas) > 127)
        iou = (seen & ref).sum() / max(1, (seen | ref).sum())
        if iou > best[1]:
            best = (d, float(iou))
    return best


def tiles_of_colour(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 4, block: int = 16,
                    fraction: float = 0.8) -> int:
    """How many ``block`` x ``block`` tiles are mostly (``fraction``) ``rgb``: a window of that colour, not a
    few codec-blurred edge pixels that happen to match."""
    m = near_colour(img, rgb, tol)
    h, w = (m.shape[0] // block) * block, (m.shape[1] // block) * block
    share = m[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))
    return int((share >= fraction).sum())
