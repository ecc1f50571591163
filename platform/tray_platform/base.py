"""OS-neutral protocols for everything the client needs from the operating system, and backend choice.

Each concern has one Protocol here and one module per OS under ``tray_platform/<os>/<concern>.py``
(the python-mss / pystray pattern). OS libraries are imported only inside those modules, so importing
this file never needs a display.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable


@dataclass(frozen=True)
class Region:
    """A rectangle in virtual-screen pixels (physical pixels, origin top-left of the virtual screen)."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True)
class Monitor:
    index: int  # 0 = first physical monitor (mss index 1)
    region: Region
    scale: float = 1.0  # device pixels per logical pixel
    primary: bool = False


@runtime_checkable
class DisplayInfo(Protocol):
    """Monitor layout. ``monitors()`` is ordered by index (0 = first physical monitor); ``virtual_screen()`` is the
    bounding box of all of them. Thread-safety: one instance per thread. The OS adapters open and close their
    display connection inside each call, so an instance holds no OS resources between calls."""

    def monitors(self) -> list[Monitor]: ...
    def virtual_screen(self) -> Region: ...


@runtime_checkable
class ScreenCapture(Protocol):
    """Grabs pixels. ``grab`` returns (width, height, BGRA bytes); the buffer may be a ``bytearray`` owned by the
    caller from then on (no copy is made), rows are tightly packed (stride = width * 4). Width and height are the
    pixels actually delivered (on a Retina display they may differ from the requested region). Thread-safety: one
    instance per thread."""

    def grab(self, region: Region) -> tuple[int, int, bytes | bytearray]: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class TopWindow:
    """A top-level window as the window manager stacks it. ``content``: the client area (what the application
    draws; a GTK client-side shadow is left out); ``frame``: the same window with the decorations the window
    manager draws around it (title bar, borders) -- equal to ``content`` when there are none. Both in
    virtual-screen pixels; either may reach past the screen's edges."""

    id: int
    title: str
    content: Region
    frame: Region

    def region(self, with_frame: bool) -> Region:
        return self.frame if with_frame else self.content


class WindowCaptureUnsupported(RuntimeError):
    """This session cannot tell which windows are where (e.g. Wayland: the portals give no window geometry)."""


@runtime_checkable
class WindowInfo(Protocol):
    """Top-level windows for window capture. ``windows()`` lists the viewable ones, topmost first;
    ``active_window()`` is the focused one (None when nothing has the focus); ``activate(id)`` raises and focuses
    one and returns True once it is on top (bounded wait). Thread-safety: one instance per thread."""

    def windows(self) -> list[TopWindow]: ...
    def active_window(self) -> TopWindow | None: ...
    def activate(self, window_id: int, timeout: float = 2.0) -> bool: ...


class NoDisplayError(RuntimeError):
    """There is no screen to capture: no X display (DISPLAY unset or unreachable), no window server session."""


@runtime_checkable
class Notifier(Protocol):
    """Native notifications. ``progress`` updates one notification in place (same id) where the OS allows;
    ``percent`` None = no known end (no bar, or an indeterminate one). ``notify(timeout=seconds)`` asks for the
    notification to go away by itself (where the OS lets an app choose); bodies are plain text (adapters escape
    them for servers that parse markup)."""

    capabilities: frozenset[str]  # e.g. {"update_in_place", "progress", "actions"}

    def notify(self, title: str, body: str, *, actions: dict[str, Callable[[], None]] | None = None,
               replaces: int | None = None, urgency: str = "normal", timeout: float | None = None) -> int: ...
    def progress(self, title: str, body: str, percent: int | None, *, replaces: int | None = None) -> int: ...
    def close(self, notification_id: int) -> None: ...


@runtime_checkable
class Clipboard(Protocol):
    def copy_text(self, text: str) -> None: ...
    def copy_image_png(self, png: bytes) -> None: ...


@runtime_checkable
class FileReveal(Protocol):
    """Shows a file selected in the desktop's file manager (Linux: ``org.freedesktop.FileManager1.ShowItems``;
    macOS: ``open -R``; Windows: ``explorer /select,``). ``reveal`` returns False when there is no file manager to
    ask (the caller then opens the folder). Blocking for at most a few seconds: call it off the UI thread."""

    def reveal(self, path: Any, startup_id: str = "") -> bool: ...


@runtime_checkable
class Autostart(Protocol):
    def enable(self, command: list[str]) -> None: ...
    def disable(self) -> None: ...
    def is_enabled(self) -> bool: ...


@dataclass(frozen=True)
class AudioDevice:
    """An audio input. ``kind``: ``"mic"`` (a microphone or line in) or ``"monitor"`` (what an output device plays:
    PulseAudio's monitor source, a WASAPI loopback, a macOS loopback driver such as BlackHole). ``id`` is what
    ``AudioInput.open`` takes; ``name`` is for people."""

    id: str
    name: str
    kind: str
    is_default: bool = False


@dataclass(frozen=True)
class AudioBlock:
    """Samples from one input: float32, interleaved, at the rate and channel count the stream was opened with.
    ``captured_at`` is the ``clock()`` time (the clock given to ``open``) at which the first sample was captured,
    the adapter's best estimate (arrival time minus the latency the OS reports)."""

    samples: bytes
    frames: int
    captured_at: float


class AudioUnavailable(RuntimeError):
    """No audio server / no such input on this machine (a lasting condition: retrying now will not help)."""


class AudioDeviceLost(RuntimeError):
    """An open input stopped for good: the device was removed, the audio server went away."""


@runtime_checkable
class AudioStream(Protocol):
    """One open input. ``read`` returns the next block, or None when nothing came within ``timeout`` seconds (a
    silent WASAPI loopback, a suspended source), and raises ``AudioDeviceLost`` once the input is gone.
    Thread-safety: ``read`` and ``close`` from one thread."""

    rate: int
    channels: int

    def read(self, timeout: float) -> AudioBlock | None: ...
    def close(self) -> None: ...


@runtime_checkable
class AudioInput(Protocol):
    """Microphones and output monitors of this machine. ``capabilities`` holds ``"mic"`` and/or ``"system"`` (the
    OS can record what the speakers play). ``open`` raises ``AudioUnavailable`` (no server, no such device).
    Each call connects anew, so a restarted audio server is picked up; an instance holds no OS resources."""

    capabilities: frozenset[str]

    def devices(self) -> list[AudioDevice]: ...
    def default_device(self, kind: str) -> AudioDevice | None: ...
    def open(self, device_id: str, *, rate: int, channels: int,
             clock: Callable[[], float]) -> AudioStream: ...


def current_os() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    raise RuntimeError(f"unsupported platform: {sys.platform}")


@dataclass
class BackendChoice:
    backend: Any
    name: str
    errors: dict[str, str] = field(default_factory=dict)  # candidate -> why it could not be used


def choose_backend(concern: str, candidates: list[str] | None = None, *, env_var: str | None = None,
                   factory: str = "create", **kwargs: Any) -> BackendChoice:
    """Import ``tray_platform.<candidate>.<concern>`` and call its ``factory(**kwargs)``.

    Candidates default to ``[current_os()]``; ``env_var`` (e.g. ``SNAPLARK_NOTIFIER``) overrides the list with one
    name. Import/creation errors are collected and reported if none works, never swallowed silently.
    A candidate may name its own factory as ``"module:factory"`` (e.g. ``"fallback:create_log"``).
    """
    override = os.environ.get(env_var) if env_var else None
    names = [override] if override else (candidates or [current_os()])
    errors: dict[str, str] = {}
    for name in names:
        try:
            package, _, own_factory = name.partition(":")
            module = importlib.import_module(f"tray_platform.{package}.{concern}")
            backend = getattr(module, own_factory or factory)(**kwargs)
            return BackendChoice(backend=backend, name=name, errors=errors)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors[name] = f"{type(exc).__name__}: {exc}"
    detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
    raise BackendUnavailable(f"no usable {concern} backend ({detail})", errors)


class BackendUnavailable(RuntimeError):
    def __init__(self, message: str, errors: dict[str, str]):
        super().__init__(message)
        self.errors = errors
