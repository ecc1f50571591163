"""The webcam bubble: a round picture of the webcam composited into every recorded frame, in a corner of the
recorded area (or where the user put it before recording).

:class:`WebcamSpec` is what the settings ask for (``capture.webcam``, ``webcam_device``, ``webcam_corner``);
:class:`BubbleCapture` wraps the recorder's :class:`~tray_platform.base.ScreenCapture`: each grab is the screen with
the bubble drawn over it (numpy, on the capture thread, in place in the BGRA buffer; the disc's edge is
anti-aliased), and its ``changed()`` hint also says "changed" when the camera has a new picture -- a still screen
is not grabbed at all otherwise (X DAMAGE), and the face in the bubble must still move.

Threading: a :class:`BubbleCapture` belongs to the capture thread; the camera's reader thread only publishes
pictures (tray/capture/webcam.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


class BubbleCapture:
    """``inner`` (a ScreenCapture) with the ``camera``'s latest picture as a bubble (``spec``). ``close()`` closes
    both (the capture loop closes its capture when the recording ends)."""

    def __init__(self, inner: Any, camera: Any, spec: WebcamSpec) -> None:
        self._inner, self._camera, self._spec = inner, camera, spec
        self._shown = -1  # the sequence number of the picture in the last grab
        self._alpha: Any = None
        self._placed: tuple[int, int, tuple[int, int, int]] | None = None

    def changed(self, region: Any) -> bool:
        inner = getattr(self._inner, "changed", None)
        screen = True if inner is None else inner(region)  # always asked: it keeps its own state
        return screen or self._camera.latest()[0] != self._shown

    def grab(self, region: Any) -> tuple[int, int, bytes | bytearray]:
        width, height, data = self._inner.grab(region)
        seq, picture = self._camera.latest()
        self._shown = seq
        if picture is None:
            return width, height, data
        if self._placed is None or self._placed[:2] != (width, height):
            self._placed = (width, height, self._spec.place(width, height))
            self._alpha = disc_alpha(self._placed[2][2])
        x, y, d = self._placed[2]
        if picture.shape[0] != d:  # (the camera cuts pictures to this size; a different frame size: rescale)
            picture = _resize(picture, d)
        buffer = data if isinstance(data, bytearray) else bytearray(data)
        composite(buffer, width, height, picture, x, y, self._alpha)
        return width, height, buffer

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._camera.close()


def _resize(picture: Any, d: int) -> Any:
    import numpy as np
    from PIL import Image

    return np.asarray(Image.fromarray(picture).resize((d, d), Image.Resampling.BILINEAR))
