"""Errors the capture package raises. Bad user input is a ``ValueError`` subclass with a message naming the value."""

from __future__ import annotations

from tray_platform.base import NoDisplayError

__all__ = ["CaptureError", "InvalidCaptureTarget", "NoDisplayError", "RecorderStateError"]


class CaptureError(RuntimeError):
    """Capturing failed for a reason outside the user's input (display lost, encoder error)."""


class InvalidCaptureTarget(ValueError):
    """Region outside the screen, zero/negative size, monitor index out of range, bad fps/bitrate."""


class RecorderStateError(RuntimeError):
    """A Recorder method was called in a state that does not allow it (e.g. start twice)."""
