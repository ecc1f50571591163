"""ProgressNotifier while a recording is still being written (issue 12 #4), with a fake clock: time and parts, no
percentage, kept current by tick(); real progress after the stop; StateChanged events never blank what is shown."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fakes_platform import FakeClock, RecordingNotifier
from tray.ui.notifications import ProgressNotifier
from tray.upload.events import StateChanged, UploadProgress
from tray.upload.progress import ProgressSnapshot
from tray.upload.state import UploadState as S


def event(uid=1, *, finished=False, uploaded=0, sent=0, total=3_000_000, state=S.UPLOADING, **kw):
    return UploadProgress(upload_id=uid, snapshot=ProgressSnapshot(
        upload_id=uid, kind="video", state=state, parts_uploaded=uploaded, parts_pending=1, bytes_sent=sent,
        bytes_total=total, session_id="s", path=Path("/tmp/recording-1767000000000.webm"), finished=finished, **kw))


class Upload:
    """What the engine's RecordingUpload offers the notifier: an id and its current progress snapshot."""

    def __init__(self, uid=1, **kw):
        self.id = uid
        self.current = event(uid, **kw).snapshot

    def progress(self):
        return self.current


def shown(n):
    return [(c[1], c[2], c[4]) for c in n.calls if c[0] == "progress"]


def test_recording_shows_time_and_parts_without_percentage_and_tick_keeps_time_current():
    n, clock = RecordingNotifier(), FakeClock()
    elapsed = [0.0]
    p = ProgressNotifier(n, clock)
    upload = Upload(total=141_600)
    p.recording_started(upload, lambda: elapsed[0])
    p(event(total=141_600))
    for _ in range(6):  # 3 s with no engine event: the tick alone moves the time on
        clock.advance(0.5)
        elapsed[0] += 0.5
        p.tick()
    upload.current = event(uploaded=3, sent=15_000_000, total=21_000_000).snapshot
    p(event(uploaded=3, sent=15_000_000, total=21_000_000))  # rate-limited: shown by the next tick
    clock.advance(0.5)
    p.tick()
    assert shown(n) == [("Recording 00:00", "No part uploaded yet", None), ("Recording 00:01", "No part uploaded yet",
                        None), ("Recording 00:02", "No part uploaded yet", None),
                        ("Recording 00:03", "No part uploaded yet", None), ("Recording 00:03", "3 parts uploaded",
                                                                           None)]
    assert all(c[3] == 100 for c in n.calls[1:])  # in place


def test_after_the_stop_real_progress_then_the_link():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock, copy_link=lambda u: None)
    p.recording_started(Upload(), lambda: 12.0)
    p(event(uploaded=2, sent=10_000_000, total=12_000_000))
    clock.advance(0.6)
    p(event(finished=True, uploaded=2, sent=12_300_000, total=27_100_000))
    p(StateChanged(1, "video", S.FINALIZING, S.COMPLETED, url="http://h/v/1.webm"))
    assert shown(n) == [("Recording 00:12", "2 parts uploaded", None),
                        ("Uploading recording-1767000000000.webm…", "45% · 12.3 MB of 27.1 MB", 45)]
    assert n.calls[-1][:3] == ("notify", "Upload complete", "http://h/v/1.webm")
    clock.advance(5)
    p.tick()  # the recording's clock is forgotten with its track: nothing more is sent
    assert len(n.calls) == 3


def test_state_changes_update_the_state_of_what_is_shown_instead_of_blanking_it():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(StateChanged(1, "video", S.IDLE, S.INITIALIZING))  # before any progress event: nothing to show yet
    assert n.calls == []
    p.recording_started(Upload(uploaded=1), lambda: 5.0)
    p(event(uploaded=1))
    clock.advance(1)
    p(StateChanged(1, "video", S.UPLOADING, S.PAUSED_OFFLINE))
    clock.advance(1)
    p(StateChanged(1, "video", S.PAUSED_OFFLINE, S.UPLOADING))  # back online: the recording text again
    assert [c[1] for c in n.calls] == ["Recording 00:05", "Upload paused: offline", "Recording 00:05"]
    assert n.calls[-1][2] == "1 part uploaded"


def test_without_a_recording_clock_the_time_counts_from_the_first_event():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(event())
    clock.advance(61)
    p.tick()
    assert [c[1] for c in n.calls] == ["Recording 00:00", "Recording 01:01"]


def test_backend_without_update_in_place_says_recording_once():
    n, clock = RecordingNotifier(capabilities=()), FakeClock()
    p = ProgressNotifier(n, clock)
    p(event())
    for _ in range(4):
        clock.advance(1)
        p.tick()
        p(event(uploaded=1))
    assert [c[:3] for c in n.calls] == [("notify", "Recording", "It uploads while you record; you get the link "
                                                                "when you stop.")]


def test_tick_reads_the_upload_when_the_engine_dropped_its_last_event():
    """The engine drops progress events closer than 0.25 s (part acked right after the next one was cut)."""
    n, clock = RecordingNotifier(), FakeClock()
    upload = Upload(uploaded=1)
    p = ProgressNotifier(n, clock)
    p.recording_started(upload, lambda: 20.0)
    p(event(uploaded=1))
    upload.current = dataclasses.replace(upload.current, parts_uploaded=2)  # acked; its event never came
    clock.advance(0.5)
    p.tick()
    assert shown(n)[-1] == ("Recording 00:20", "2 parts uploaded", None)
