"""Webcam input for the recording's webcam bubble: a camera read by PyAV on its own thread, each picture cut to the
bubble's square (scaled to cover it, centre kept) as soon as it arrives, the latest one kept for the capture thread.

Per-OS camera input, all through FFmpeg's device demuxers in PyAV (:func:`camera_input`): V4L2 on Linux
(``/dev/video0``), DirectShow on Windows (``video=<name>``), AVFoundation on macOS (``<index or name>:none``). A
``file:PATH`` device is a video file played as a camera (looped, at its own pace): a camera for tests and demos.

Pictures are published at most :data:`BUBBLE_FPS` a second (a Loom-like bubble: on a still screen each new picture
costs a recorded frame): a 30 fps camera gives every other picture, on a grid of the pictures' own timestamps. A
picture that is not published is not converted to RGB, and with an intra-only codec (MJPEG, raw: what USB webcams
send) its packet is not even decoded.

:class:`Camera` is the adapter the bubble uses: ``start()`` opens the input (an error names the device: it is raised
before the recording starts), ``latest()`` returns ``(sequence, picture)`` (an RGB ``numpy`` array ``size x size x
3``, or None before the first picture; ``sequence`` grows with each new picture), ``close()`` stops the thread.

Threading: one reader thread per camera; ``latest()`` from any thread (one tuple assignment publishes a picture).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from tray.capture.errors import InvalidCaptureTarget

log = logging.getLogger(__name__)

FILE_PREFIX = "file:"
_DEFAULT_DEVICES = {"linux": "/dev/video0", "win32": "", "darwin": "0"}
BUBBLE_FPS = 15  # pictures published per second, at most
_SLACK = 0.002  # s: timestamps rounded to ms (WebM) still fall on the grid


@dataclass(frozen=True)
class CameraInput:
    url: str
    format: str | None  # FFmpeg's input format (v4l2, dshow, avfoundation); None for a file
    options: dict[str, str]
    looped: bool = False  # a file: played again from the start at its end, at its own pace


def camera_input(device: str, platform: str = sys.platform) -> CameraInput:
    """What to open for ``capture.webcam_device`` (``""``: the system's first camera)."""
    if device.startswith(FILE_PREFIX):
        return CameraInput(device[len(FILE_PREFIX):], None, {}, looped=True)
    if platform.startswith("linux"):
        return CameraInput(device or _DEFAULT_DEVICES["linux"], "v4l2", {"framerate": "30"})
    if platform == "win32":
        if not device:
            raise InvalidCaptureTarget("capture.webcam_device: name the camera on Windows (DirectShow), e.g. "
                                       "\"Integrated Camera\" (ffmpeg -list_devices true -f dshow -i dummy lists them)")
        return CameraInput(f"video={device}", "dshow", {})
    if platform == "darwin":
        return CameraInput(f"{device or _DEFAULT_DEVICES['darwin']}:none", "avfoundation", {"framerate": "30"})
    raise InvalidCaptureTarget(f"no webcam input on {platform}")


def square_picture(frame: Any, size: int) -> Any:
    """A PyAV video frame as an RGB ``size x size`` array: scaled to cover the square, the centre kept."""
    w, h = frame.width, frame.height
    scale = size / min(w, h)
    sw, sh = max(size, round(w * scale)), max(size, round(h * scale))
    rgb = frame.to_ndarray(width=sw, height=sh, format="rgb24")
    x, y = (sw - size) // 2, (sh - size) // 2
    return rgb[y:y + size, x:x + size]


class Camera:
    """The camera at ``device`` (see :func:`camera_input`), pictures cut to ``size`` px squares."""

    def __init__(self, device: str, size: int, *, clock: Callable[[], float] = time.monotonic,
                 platform: str = sys.platform, max_fps: float = BUBBLE_FPS) -> None:
        self.device, self.size = device, int(size)
        self._interval = 1.0 / max_fps
        self._input = camera_input(device, platform)
        self._clock = clock
        self._latest: tuple[int, Any] = (0, None)
        self._stop = threading.Event()
        self._container: Any = None
        self._thread: threading.Thread | None = None
        self.pictures = 0  # how many arrived (for stats)

    def _open(self) -> Any:
        import av

        spec = self._input
        try:
            container = av.open(spec.url, format=spec.format, options=spec.options)
            if not container.streams.video:
                container.close()
                raise InvalidCaptureTarget(f"webcam {self.device!r}: no video in it")
        except av.FFmpegError as exc:
            raise InvalidCaptureTarget(f"webcam {self.device!r}: cannot open {spec.url} ({exc})") from None
        return container

    def start(self) -> None:
        """Open the input now (errors are raised here, naming the device), then read it on a thread."""
        self._container = self._open()
        self._thread = threading.Thread(target=self._run, name="snaplark-webcam", daemon=True)
        self._thread.start()

    def latest(self) -> tuple[int, Any]:
        return self._latest

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        container = self._container
        try:
            while not self._stop.is_set():
                self._read(container)
                if not self._input.looped or self._stop.is_set():
                    break
                container.close()
                container = self._container = self._open()
        except Exception as exc:  # noqa: BLE001 - the bubble keeps its last picture; the recording goes on
            log.warning("webcam %s stopped: %s", self.device, exc)
        finally:
            container.close()

    def _read(self, container: Any) -> None:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        intra = bool(stream.codec_context.codec.intra_only)  # each packet decodes alone: skip the unused ones
        start = self._clock()
        due = float("-inf")  # the stream time from which the next picture is published
        for packet in container.demux(stream):
            if self._stop.is_set():
                return
            if intra and packet.pts is not None and packet.time_base is not None and \
                    float(packet.pts * packet.time_base) < due - _SLACK:
                continue
            for frame in packet.decode():
                if self._stop.is_set():
                    return
                t = float(frame.time) if frame.time is not None else self._clock() - start
                if t < due - _SLACK:
                    continue  # between two published pictures
                due = (due if t - due < self._interval else t) + self._interval  # the grid, unless far behind
                if self._input.looped:  # a file: at its own pace, like a camera
                    wait = start + t - self._clock()
                    if wait > 0:
                        self._stop.wait(wait)
                seq = self._latest[0] + 1
                self._latest = (seq, square_picture(frame, self.size))
                self.pictures = seq
