"""A recording from start to link, shared by the tray app and ``snaplark record`` (:class:`RecordingSession`)."""

from tray.recording.clock import ElapsedClock
from tray.recording.session import RecordingSession, recording_path

__all__ = ["ElapsedClock", "RecordingSession", "recording_path"]
