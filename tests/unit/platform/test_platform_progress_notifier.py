from __future__ import annotations

from pathlib import Path

import pytest

from fakes_platform import FakeClock, RecordingNotifier
from tray.ui.notifications import ProgressNotifier
from tray.upload.events import StateChanged, UploadProgress
from tray.upload.progress import ProgressSnapshot
from tray.upload.state import UploadState


def snap(pct=0, *, state=UploadState.UPLOADING, upload_id=None, kind="video", path=None, **kw):
    """A snapshot ``pct`` % through 100 kB (``bytes_sent``/``bytes_total`` in ``kw`` override that)."""
    fields = {"parts_uploaded": pct // 10, "parts_pending": 10 - pct // 10, "bytes_sent": pct * 1000,
              "bytes_total": 100_000, "session_id": "s", **kw}
    return ProgressSnapshot(upload_id=upload_id, kind=kind, state=state, path=None if path is None else Path(path),
                            **fields)


def ev(pct=0, **kw):
    """The engine's progress event for an id-less upload."""
    return UploadProgress(None, snap(pct, **kw))


def progress_calls(n):
    return [c for c in n.calls if c[0] == "progress"]


def test_first_update_is_sent_and_later_ones_update_the_same_id():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(ev(10))
    clock.advance(0.6)
    p(ev(20))
    calls = progress_calls(n)
    assert [c[4] for c in calls] == [10, 20]
    assert calls[0][3] is None and calls[1][3] == 100  # second replaces the first id


def test_rate_limit_at_most_two_per_second_with_fake_clock():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    sent_at = []
    for i in range(100):  # 100 events over 5 s (one every 50 ms)
        before = p.sent_updates
        p(ev(i))
        if p.sent_updates > before:
            sent_at.append(clock())
        clock.advance(0.05)
    assert 9 <= len(sent_at) <= 11
    for a, b in zip(sent_at, sent_at[1:]):
        assert b - a >= 0.5 - 1e-9
    # in any 1 s window there are at most 2 updates
    for t in sent_at:
        assert sum(1 for s in sent_at if t <= s < t + 1.0) <= 2


def test_held_back_update_is_flushed_by_tick_after_interval():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(ev(10))
    clock.advance(0.1)
    p(ev(40))
    p(ev(55))
    assert [c[4] for c in progress_calls(n)] == [10]
    p.tick()  # still inside the interval: nothing
    assert [c[4] for c in progress_calls(n)] == [10]
    clock.advance(0.5)
    p.tick()
    assert [c[4] for c in progress_calls(n)] == [10, 55]
    clock.advance(1.0)
    p.tick()  # nothing pending any more
    assert len(progress_calls(n)) == 2


def test_bytes_drive_percent_and_body_text():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(ev(0, bytes_sent=2_500_000, bytes_total=10_000_000, rate=1_200_000, path="rec.webm", parts_failed=1))
    (_, title, body, _, pct) = progress_calls(n)[0]
    assert pct == 25
    assert "rec.webm" in title
    assert "2.5 MB of 10.0 MB" in body and "1.2 MB/s" in body and "retrying" in body


def test_identical_progress_is_not_resent():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(ev(30))
    clock.advance(1)
    p(ev(30))
    assert len(progress_calls(n)) == 1


def test_completion_replaces_progress_with_link_and_copy_action():
    n, clock = RecordingNotifier(), FakeClock()
    copied = []
    p = ProgressNotifier(n, clock, copy_link=copied.append)
    p(ev(50))
    clock.advance(0.01)  # completion is never rate limited
    p(ev(100, state=State.COMPLETED, url="http://x/v/abc"))
    last = n.calls[-1]
    assert last[:4] == ("notify", "Upload complete", "http://x/v/abc", 100)
    assert last[5] == ["copy"]
    n.actions[100]["copy"]()
    assert copied == ["http://x/v/abc"]
    # a new upload starts a new notification
    p(ev(5))
    assert progress_calls(n)[-1][3] is None


def test_copy_action_is_posted_when_a_dispatcher_is_given():
    n, clock = RecordingNotifier(), FakeClock()
    copied, posted = [], []
    p = ProgressNotifier(n, clock, copy_link=copied.append, post=posted.append)
    p(ev(100, state=State.COMPLETED, url="http://x/s/1"))
    nid = n.calls[-1][3] or 100
    n.actions[nid]["copy"]()
    assert copied == [] and len(posted) == 1
    posted[0]()
    assert copied == ["http://x/s/1"]


State = UploadState


def test_offline_is_told_once_with_resume_hint_then_progress_continues_in_place():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(ev(40, state=State.UPLOADING))
    for _ in range(5):
        clock.advance(0.1)
        p(ev(40, state=State.PAUSED_OFFLINE, online=False))
    offline = [c for c in n.calls if c[0] == "notify"]
    assert len(offline) == 1
    assert "resume automatically" in offline[0][2] and offline[0][3] == 100
    clock.advance(0.1)
    p(ev(45, state=State.UPLOADING))
    assert n.calls[-1][0] == "progress" and n.calls[-1][3] == 100 and n.calls[-1][4] == 45


def test_auth_error_is_critical_and_says_run_snaplark_login():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock, on_login=lambda: None)
    p(ev(10))
    p(ev(10, state=State.AUTH_REQUIRED))
    last = n.calls[-1]
    assert last[0] == "notify" and last[4] == "critical"
    assert "snaplark login" in last[2]
    assert last[5] == ["login"]


def test_failure_names_the_reason_and_kept_file():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(ev(10, state=State.FAILED, error="413 file too large", path="/tmp/rec.webm"))
    last = n.calls[-1]
    assert last[4] == "critical" and "413 file too large" in last[2] and "/tmp/rec.webm" in last[2]


def test_backend_without_update_in_place_gets_start_and_final_only():
    n, clock = RecordingNotifier(capabilities=()), FakeClock()
    p = ProgressNotifier(n, clock, copy_link=lambda u: None)
    for i in range(0, 100, 5):
        clock.advance(1)
        p(ev(i))
    p(ev(100, state=State.COMPLETED, url="http://x/1"))
    assert [c[0] for c in n.calls] == ["notify", "notify"]
    assert n.calls[0][2].startswith("Upload started")


def test_progress_disabled_still_shows_final():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock, show_progress=False)
    p(ev(50))
    p(ev(100, url="http://x/2", state=State.COMPLETED))
    assert [c[0] for c in n.calls] == ["notify"] and n.calls[0][2] == "http://x/2"


@pytest.mark.parametrize("state,online,expected", [
    (State.IDLE, True, "progress"), (State.INITIALIZING, True, "progress"), (State.UPLOADING, True, "progress"),
    (State.FINALIZING, True, "progress"), (State.UPLOADING, False, "offline"), (State.PAUSED_OFFLINE, True, "offline"),
    (State.AUTH_REQUIRED, True, "auth"), (State.FAILED, True, "failed"), (State.COMPLETED, True, "completed"),
])
def test_classify(state, online, expected):
    assert ProgressNotifier._classify(snap(state=state, online=online)) == expected


# -- the upload engine's own event objects -----------------------------------------------------------------------
def engine_progress(upload_id, pct, state=UploadState.UPLOADING, **kw):
    # a finished file; recordings: test_platform_recording_notification.py
    kw = {"parts_uploaded": 1, "parts_pending": 1, "path": f"/tmp/rec-{upload_id}.webm", **kw}
    return UploadProgress(upload_id=upload_id, snapshot=snap(pct, state=state, upload_id=upload_id, **kw))


def test_engine_events_one_notification_per_upload():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock, copy_link=lambda u: None)
    p(engine_progress(1, 10))
    p(engine_progress(2, 50))  # a second upload while the first runs: its own notification, not rate limited
    clock.advance(0.6)
    p(engine_progress(1, 20))
    ids = [c[3] for c in progress_calls(n)]
    assert ids == [None, None, 100]
    assert "rec-1.webm" in progress_calls(n)[0][1]
    assert p.notification_id(1) == 100 and p.notification_id(2) == 101


def test_state_changed_completed_and_late_progress_give_one_final_notification():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock, copy_link=lambda u: None)
    p(engine_progress(7, 90))
    p(StateChanged(upload_id=7, kind="video", old=UploadState.FINALIZING, new=UploadState.COMPLETED,
                   url="http://h/v/7"))
    p(engine_progress(7, 100, state=UploadState.COMPLETED, url="http://h/v/7"))
    finals = [c for c in n.calls if c[0] == "notify"]
    assert len(finals) == 1 and finals[0][2] == "http://h/v/7" and finals[0][3] == 100


def test_state_changed_failed_uses_error_text():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(StateChanged(upload_id=3, kind="screenshot", old=UploadState.UPLOADING, new=UploadState.FAILED,
                   error="413: file too large"))
    assert n.calls[-1][1] == "Upload failed" and "413: file too large." in n.calls[-1][2]


def test_screenshot_completion_title():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock)
    p(StateChanged(upload_id=4, kind="screenshot", old=UploadState.UPLOADING, new=UploadState.COMPLETED,
                   url="http://h/s/4"))
    assert n.calls[-1][1] == "Screenshot uploaded"


class FlakyNotifier(RecordingNotifier):
    def __init__(self):
        super().__init__()
        self.broken = True

    def progress(self, *a, **kw):
        if self.broken:
            raise ConnectionError("org.freedesktop.Notifications vanished")
        return super().progress(*a, **kw)

    def notify(self, *a, **kw):
        if self.broken:
            raise ConnectionError("org.freedesktop.Notifications vanished")
        return super().notify(*a, **kw)


def test_notifier_errors_never_reach_the_upload_engine(caplog):
    n, clock = FlakyNotifier(), FakeClock()
    p = ProgressNotifier(n, clock, copy_link=lambda u: None)
    p(ev(10))
    p(ev(20, state=State.PAUSED_OFFLINE, online=False))
    p(ev(20))
    assert p.failures == 3 and "vanished" in caplog.text
    n.broken = False  # the daemon is back: updates resume, the final notification is shown
    clock.advance(1)
    p(ev(60))
    p(ev(100, state=State.COMPLETED, url="http://h/x"))
    assert [c[0] for c in n.calls] == ["progress", "notify"] and n.calls[-1][2] == "http://h/x"


def test_screenshot_uploads_skip_progress_and_show_only_the_link():
    n, clock = RecordingNotifier(), FakeClock()
    p = ProgressNotifier(n, clock, copy_link=lambda u: None)
    p(engine_progress(9, 40, kind="screenshot"))
    p(StateChanged(upload_id=9, kind="screenshot", old=UploadState.UPLOADING, new=UploadState.COMPLETED,
                   url="http://h/s/9"))
    assert [c[0] for c in n.calls] == ["notify"] and n.calls[0][1] == "Screenshot uploaded"
