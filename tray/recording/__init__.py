"""A recording from start to link, shared by the tray app and ``snaplark record`` (:class:`RecordingSession`)."""

from tray.recording.clock import ElapsedClock
from tray.captures import recording_path
from tray.recording.session import RecordingSession

__all__ = ["ElapsedClock", "RecordingSession", "recording_path"]
