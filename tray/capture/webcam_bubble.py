"""The webcam bubble: a round picture of the webcam composited into every recorded frame, in a corner of the
recorded area (or where the user put it before recording).

:class:`WebcamSpec` is what the settings ask for (``capture.webcam``, ``webcam_device``, ``webcam_corner``);
:class:`BubbleCapture` wraps the recorder's :class:`~tray_platform.base.ScreenCapture`: each grab is the screen with
the bubble drawn over it (numpy, on the capture thread, in place in the BGRA buffer; the disc's edge is
anti-aliased; :class:`Disc` copies the opaque inside row by row and blends only the edge ring: ~10x cheaper than
blending the whole square, the same bytes as :func:`composite`).

A new camera picture while the screen is still (X DAMAGE says nothing changed) costs no grab: the capture loop
(:mod:`tray.capture.frame_pacing`) calls :meth:`BubbleCapture.refresh` with the last queued BGRA picture and its
yuv420p frame; the bubble is drawn again over the screen's pixels kept from the last grab (only the bubble's square,
its corners grown to even ones), only that square is converted (BGRA -> yuv420p at the square's size: swscale or
libyuv, the same converter kind as the full one -- each 2x2 block's chroma is its own, so the bytes are those a full
conversion would give) and pasted into a copy of the last frame's planes. No compare, no full conversion: a still
screen with the camera at :data:`~tray.capture.webcam.BUBBLE_FPS` costs a small conversion and an encode per
picture. ``changed()`` says "changed" for a new picture only when that cannot be done (nothing grabbed yet, a grab
scaled to another output size).

Threading: a :class:`BubbleCapture` belongs to the capture thread; the camera's reader thread only publishes
pictures (tray/capture/webcam.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tray.capture.damage_convert import plane_arrays

CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")
MARGIN = 16  # px between the bubble and the edges of the recorded area
MIN_SIZE, MAX_SIZE = 48, 320


@dataclass(frozen=True)
class WebcamSpec:
    device: str = ""  # "" = the system's first camera; "file:PATH" = a video file played as the camera
    corner: str = "bottom-right"
    size: int = 0  # the bubble's diameter in px; 0 = a quarter of the recorded area's shorter side (48..320)
    position: tuple[int, int] | None = None  # top-left in the recorded area, when moved there before recording

    def __post_init__(self) -> None:
        if self.corner not in CORNERS:
            raise ValueError(f"webcam corner must be one of {', '.join(CORNERS)}, got {self.corner!r}")

    def diameter(self, width: int, height: int) -> int:
        size = self.size or min(MAX_SIZE, max(MIN_SIZE, min(width, height) // 4))
        return max(1, min(size, width, height))

    def place(self, width: int, height: int) -> tuple[int, int, int]:
        """(left, top, diameter) of the bubble in a ``width`` x ``height`` frame, wholly inside it."""
        d = self.diameter(width, height)
        if self.position is not None:
            x, y = self.position
        else:
            margin = min(MARGIN, (width - d) // 2, (height - d) // 2)
            x = margin if self.corner.endswith("left") else width - d - margin
            y = margin if self.corner.startswith("top") else height - d - margin
        return max(0, min(int(x), width - d)), max(0, min(int(y), height - d)), d


def webcam_from_settings(capture: Any, *, enabled: bool | None = None, device: str | None = None,
                         corner: str | None = None) -> WebcamSpec | None:
    """The bubble ``capture`` settings ask for (``webcam``, ``webcam_device``, ``webcam_corner``), each overridden
    when given (the command line's ``--webcam``...); None when the webcam is off."""
    on = enabled if enabled is not None else bool(getattr(capture, "webcam", False))
    if not on:
        return None
    return WebcamSpec(device=device if device is not None else getattr(capture, "webcam_device", ""),
                      corner=corner or getattr(capture, "webcam_corner", "bottom-right"))


def disc_alpha(d: int) -> Any:
    """A ``d x d`` uint16 weight (0..256) of a disc filling the square, its edge anti-aliased over one pixel."""
    import numpy as np

    r = d / 2
    c = np.arange(d, dtype=np.float32) + 0.5 - r
    dist = np.sqrt(c[None, :] ** 2 + c[:, None] ** 2)
    return (np.clip(r - dist + 0.5, 0.0, 1.0) * 256).astype(np.uint16)


def composite(buffer: bytearray, width: int, height: int, picture: Any, x: int, y: int, alpha: Any) -> None:
    """Draw the RGB ``picture`` (d x d) as a disc into the BGRA ``buffer`` at (x, y), in place."""
    import numpy as np

    d = picture.shape[0]
    frame = np.frombuffer(buffer, dtype=np.uint8).reshape(height, width, 4)
    dst = frame[y:y + d, x:x + d, :3]
    a = alpha[:, :, None]
    cam = picture[:, :, ::-1].astype(np.uint16)  # RGB -> BGR
    dst[...] = ((dst.astype(np.uint16) * (256 - a) + cam * a) >> 8).astype(np.uint8)


class Disc:
    """A ``d x d`` disc drawn fast: the opaque inside (weight 256) copied as one span per row, only the anti-aliased
    ring (0 < weight < 256) blended -- byte for byte what :func:`composite` draws."""

    def __init__(self, d: int) -> None:
        import numpy as np

        alpha = disc_alpha(d)
        self.d = d
        inside = alpha == 256
        self.spans = [(r, int(c[0]), int(c[-1]) + 1) for r in range(d) if (c := np.flatnonzero(inside[r])).size]
        self.ring = np.nonzero((alpha > 0) & (alpha < 256))
        self.ring_alpha = alpha[self.ring][:, None]
        self._picture: Any = None  # the last picture drawn, and what it needs, computed once per picture
        self._bgr: Any = None
        self._ring_cam: Any = None

    def draw(self, frame: Any, picture: Any, x: int, y: int) -> None:
        """Draw the RGB ``picture`` (d x d) into ``frame`` (a writable BGRA ``h x w x 4`` uint8 array) at (x, y)."""
        import numpy as np

        if picture is not self._picture:
            self._picture, self._bgr = picture, np.ascontiguousarray(picture[:, :, ::-1])
            self._ring_cam = self._bgr[self.ring].astype(np.uint16) * self.ring_alpha
        dst, bgr = frame[y:y + self.d, x:x + self.d, :3], self._bgr
        for r, x0, x1 in self.spans:
            dst[r, x0:x1] = bgr[r, x0:x1]
        under = dst[self.ring].astype(np.uint16)
        dst[self.ring] = ((under * (256 - self.ring_alpha) + self._ring_cam) >> 8).astype(np.uint8)


class BubbleCapture:
    """``inner`` (a ScreenCapture) with the ``camera``'s latest picture as a bubble (``spec``). ``close()`` closes
    both (the capture loop closes its capture when the recording ends)."""

    def __init__(self, inner: Any, camera: Any, spec: WebcamSpec) -> None:
        self._inner, self._camera, self._spec = inner, camera, spec
        self._shown = -1  # the sequence number of the picture in the last grab or refresh
        self._disc: Disc | None = None
        self._placed: tuple[int, int, tuple[int, int, int]] | None = None
        self._square: tuple[int, int, int, int] = (0, 0, 0, 0)  # the bubble's square grown to even corners
        self._under: Any = None  # the screen's BGRA pixels in that square at the last grab
        self._convert_square: Any = None  # BGRA -> yuv420p at the square's size
        self._scaled = False  # the output is not the grab's size: no refresh, a grab for each picture
        self.refreshes = 0  # pictures drawn without a grab (for tests and benchmarks)

    def changed(self, region: Any) -> bool:
        inner = getattr(self._inner, "changed", None)
        screen = True if inner is None else inner(region)  # always asked: it keeps its own state
        return screen or ((self._under is None or self._scaled) and self._camera.latest()[0] != self._shown)

    def grab(self, region: Any) -> tuple[int, int, bytes | bytearray]:
        width, height, data = self._inner.grab(region)
        seq, picture = self._camera.latest()
        self._shown = seq
        if picture is None:
            return width, height, data
        x, y, d = self._place(width, height)
        if picture.shape[0] != d:  # (the camera cuts pictures to this size; a different frame size: rescale)
            picture = _resize(picture, d)
        buffer = data if isinstance(data, bytearray) else bytearray(data)
        frame = _pixels(buffer, width, height)
        sx, sy, sw, sh = self._square
        if width % 2 == 0 and height % 2 == 0:
            self._under = frame[sy:sy + sh, sx:sx + sw].copy()
        self._disc.draw(frame, picture, x, y)
        return width, height, buffer

    def refresh(self, last: bytearray, frame: Any) -> Any:
        """The camera's new picture drawn without a grab, the screen being still: ``last`` is the BGRA picture
        ``frame`` (yuv420p) was converted from; the bubble is drawn again in ``last`` (in place: it becomes the
        picture of the frame returned) and a new frame returned with only the bubble's square converted again.
        None when there is no new picture or it cannot be done so (``changed()`` then asks for a grab)."""
        import numpy as np

        seq, picture = self._camera.latest()
        if seq == self._shown or picture is None or self._under is None:
            return None
        width, height = self._placed[:2]
        if (frame.width, frame.height) != (width, height) or not isinstance(last, bytearray) \
                or len(last) != width * height * 4:
            self._scaled = True  # grab for each picture from now on
            return None
        x, y, d = self._placed[2]
        if picture.shape[0] != d:
            picture = _resize(picture, d)
        pixels = _pixels(last, width, height)
        sx, sy, sw, sh = self._square
        square = pixels[sy:sy + sh, sx:sx + sw]
        square[...] = self._under
        self._disc.draw(pixels, picture, x, y)
        if self._convert_square is None:
            from tray.capture.yuv import make_converter

            self._convert_square = make_converter(sw, sh)
        part = self._convert_square(sw, sh, np.ascontiguousarray(square))
        out = _copy_frame(frame)
        for dst, src, k in zip(plane_arrays(out), plane_arrays(part), (1, 2, 2)):
            dst[sy // k:(sy + sh) // k, sx // k:(sx + sw) // k] = src
        self._shown = seq
        self.refreshes += 1
        return out

    def _place(self, width: int, height: int) -> tuple[int, int, int]:
        if self._placed is None or self._placed[:2] != (width, height):
            self._placed = (width, height, self._spec.place(width, height))
            x, y, d = self._placed[2]
            sx, sy = x & ~1, y & ~1
            self._square = (sx, sy, min(width, (x + d + 1) & ~1) - sx, min(height, (y + d + 1) & ~1) - sy)
            self._disc, self._under, self._convert_square = Disc(d), None, None
        return self._placed[2]

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._camera.close()


def _pixels(buffer: bytearray, width: int, height: int) -> Any:
    import numpy as np

    return np.frombuffer(buffer, dtype=np.uint8, count=width * height * 4).reshape(height, width, 4)


def _copy_frame(frame: Any) -> Any:
    """A new yuv420p frame with ``frame``'s pixels (frames handed to the encoder are never written to again)."""
    import av
    import numpy as np

    out = av.VideoFrame(frame.width, frame.height, "yuv420p")
    for dst, src in zip(plane_arrays(out), plane_arrays(frame)):
        np.copyto(dst, src)
    return out


def _resize(picture: Any, d: int) -> Any:
    import numpy as np
    from PIL import Image

    return np.asarray(Image.fromarray(picture).resize((d, d), Image.Resampling.BILINEAR))
