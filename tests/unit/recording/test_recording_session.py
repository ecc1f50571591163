"""RecordingSession with a fake capture source and a fake upload sink: no display, no network (issue 13, acc. 4).

The real Recorder and encoder run (frames from SyntheticCapture, time from FakeTime); the "uploader" records what the
recorder's sink was told. Checks: the upload is created with the init metadata, durable notices grow and finish
with the file's size, the clock runs only while recording (pause excluded), link() returns the uploader's URL.
"""

from __future__ import annotations

import threading

import pytest

from tray.recording import RecordingSession, recording_path
from tray_platform.base import Region

from tests.unit.capture.test_capture_unit import FakeTime, SmallScreen, SyntheticCapture

av = pytest.importorskip("av")


class FakeUpload:
    """The sink half of RecordingUpload plus wait()."""

    def __init__(self, path, metadata):
        self.path, self.metadata = path, metadata
        self.durable_notices: list[int] = []
        self.finished_with: tuple | None = None
        self.done = threading.Event()

    def durable(self, nbytes):
        self.durable_notices.append(nbytes)

    def finished(self, total_bytes, duration, metadata=None):
        self.finished_with = (total_bytes, duration)
        self.done.set()

    def failed(self, reason):
        raise AssertionError(f"the recording failed: {reason}")

    def wait(self, timeout=None, *, stop_on_login=False):
        assert self.done.wait(timeout or 10)
        return f"https://example.invalid/v/{self.path.stem}.webm"


class FakeUploader:
    def __init__(self):
        self.uploads: list[FakeUpload] = []

    def start_recording_upload(self, path, metadata=None):
        self.uploads.append(FakeUpload(path, metadata))
        return self.uploads[-1]


def make_session(tmp_path, **kw):
    ft = FakeTime()
    states = []
    uploader = kw.pop("uploader", FakeUploader())
    session = RecordingSession(recording_path(tmp_path, now=1_700_000_000.5), uploader=uploader,
                               on_state=states.append, clock=ft.clock, region=Region(0, 0, 64, 48), fps=10,
                               display_info=SmallScreen(), capture_factory=lambda: SyntheticCapture(lambda n: n),
                               sleeper=ft.sleep, wall_clock=lambda: 1_700_000_000.5, **kw)
    ft.recorder = session.recorder
    return session, ft, uploader, states


def test_a_session_streams_into_its_upload_and_times_only_the_recording(tmp_path):
    from tray.capture.recorder import RecorderState

    session, ft, uploader, states = make_session(tmp_path, max_duration=4.0)
    assert session.path == tmp_path / "recording-1700000000500.webm"
    assert session.prepare()["resolution"] == "64x48"
    assert uploader.uploads == [] and session.elapsed() == 0.0  # nothing before start
    seen_paused = []

    def at(now: float) -> None:
        if abs(now - 102.0) < 1e-6 and not seen_paused:  # 2 s in: pause; a 30 s (fake) pause later, resume from another thread
            session.pause()
            seen_paused.append((session.paused, session.elapsed()))

            def later() -> None:
                ft.now += 30.0
                seen_paused.append((session.paused, session.elapsed()))
                session.resume()

            threading.Thread(target=later).start()

    ft.on_sleep = at
    session.start()
    assert session.wait(30)  # ended by itself at max_duration
    result = session.stop()
    assert result is not None and result.error is None
    assert seen_paused == [(True, pytest.approx(2.0, abs=0.15))] * 2  # the clock stood still while paused

    (upload,) = uploader.uploads
    assert upload.path == session.path and upload.metadata["resolution"] == "64x48"
    assert upload.metadata["fps"] == 10 and upload.metadata["filename"] == session.path.name
    assert upload.durable_notices == sorted(upload.durable_notices)
    assert upload.finished_with[0] == session.path.stat().st_size == result.total_bytes
    assert RecorderState.RECORDING in states and RecorderState.PAUSED in states
    assert session.elapsed() == pytest.approx(4.0, abs=0.15)  # the 30 s pause excluded; frozen at the end
    assert session.link(5) == "https://example.invalid/v/recording-1700000000500.webm"
    with av.open(str(session.path)) as c:
        assert c.streams.video[0].codec_context.name == "vp9"


def test_without_an_uploader_the_recording_stays_local(tmp_path):
    session, ft, _, _ = make_session(tmp_path, uploader=None, max_duration=1.0)
    session.start()
    assert session.wait(30)
    result = session.stop()
    assert result is not None and session.uploads == []
    with pytest.raises(RuntimeError, match="not being uploaded"):
        session.link(1)
