"""The progress notification of a recording (issue 12 #4), end to end: a growing file (the recorder's stand-in)
feeds the real upload engine, which uploads to the real reference server and publishes its events to the
ProgressNotifier, which talks to a notification service on a real private session bus.

While recording: "Recording 00:03" / "12 parts uploaded", one notification updated in place, at most 2 updates/s, no
percentage (the old text was "Uploading rec.webm… 0% · 0 B of 141.6 KB" the whole time). After the stop: real
upload progress ("Uploading …" / "45% · 12.3 MB of 23.1 MB"). Then the link. A second test shows it in dunst and
keeps the picture (test-artifacts/desktop/notification_recording.png).
"""

from __future__ import annotations

import random
import re
import time

import pytest

from desktop_helpers import require_tools
from test_desktop_dunst import dunst, grab  # noqa: F401 - the dunst fixture
from tray.api.client import ApiClient
from tray.humanize import human_bytes
from tray.recording import ElapsedClock
from tray.ui.notifications import ProgressNotifier
from tray.upload.backoff import Sleeper
from tray.upload.engine import UploadEngine
from tray.upload.journal import UploadJournal
from tray_platform.linux.notify import DBusNotifier

from tests.integration.upload.helpers import MIB, GrowingFile, TokenHolder, download_sha, sha256_file

pytestmark = pytest.mark.e2e

SIZE = 22 * MIB + 12_345  # our server takes small parts: 0 = the first 64 KiB (last), ~512 KiB parts while recording
HOLD_AT = 20 * MIB + 512 * 1024  # the writer waits here (parts 1..3 are long on the server by then)


class Recording:
    """Engine + notifier + growing file, ticking the notifier like the tray app's 500 ms timer (faster here)."""

    def __init__(self, server, tmp_path, notifier):
        self.journal = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
        self.progress = ProgressNotifier(notifier, time.monotonic, copy_link=lambda url: None)

        def client() -> ApiClient:
            return ApiClient(server.api_url, TokenHolder(server.token), min_read_timeout=30.0,
                             min_throughput=1 << 30)

        self.engine = UploadEngine(client, self.journal, sleeper=Sleeper(scale=0.01), rng=random.Random(1),
                                   on_event=self.progress, server_url=server.api_url)
        self.path = tmp_path / "recording-1767000000000.webm"
        self.server = server

    def start(self):
        self.clock = ElapsedClock()
        self.clock.start()
        self.upload = self.engine.start_recording_upload(self.path, {"resolution": "1280x720"})
        self.progress.recording_started(self.upload, self.clock.elapsed)  # what the tray app's sink factory does
        self.writer = GrowingFile(self.path, SIZE, step=512 * 1024, pause=0.05, hold_at=HOLD_AT).start(self.upload)
        return self

    def tick_until(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.progress.tick()
            got = predicate()
            if got:
                return got
            time.sleep(0.1)
        raise TimeoutError(f"{what} within {timeout} s")

    def parts_acked(self, *indexes: int) -> bool:
        acked = {p.index for p in self.journal.parts(self.upload.id) if p.acked}
        return set(indexes) <= acked

    def stop(self, slow_parts: float = 0.0) -> str:
        """The user stops: the writer finishes the file; tick until the link arrives. ``slow_parts``: the server
        (its fault injection) takes that long for each of the two parts still to send, like a slower link than
        localhost, so the upload after the stop lasts long enough to be shown."""
        if slow_parts:
            self.server.thread.faults.add("/api/v1/videos/chunk", count=2, status=None, delay=slow_parts)
        self.clock.pause()
        self.writer.release()
        self.writer.join()
        return self.tick_until(lambda: self.upload.url, 60, "upload link")

    def close(self):
        self.engine.stop(10)
        self.journal.close()


def parts_in(body: str) -> int:
    """N of "N parts uploaded" (1 for "1 part uploaded", 0 otherwise)."""
    m = re.fullmatch(r"(\d+) parts? uploaded", body)
    return int(m[1]) if m else 0


def latest_time(calls) -> int:
    """Seconds of the newest "Recording mm:ss" notification."""
    times = [int(m[1]) * 60 + int(m[2]) for c in calls if (m := re.fullmatch(r"Recording (\d\d):(\d\d)", c.summary))]
    return times[-1] if times else -1


def test_recording_then_upload_then_link_in_one_notification(notification_service, server, tmp_path):
    notifier = DBusNotifier(call_timeout=3.0).open()
    rec = Recording(server, tmp_path, notifier)
    try:
        rec.start()
        calls = notification_service.calls
        rec.tick_until(lambda: rec.parts_acked(1, 2, 3), 60, "parts 1-3 acked while recording")
        rec.tick_until(lambda: any(parts_in(c.body) >= 3 for c in calls), 10, "a '3+ parts uploaded' notification")
        # keep recording a little longer: the time must go on in place with no new events from the engine
        shown_at = latest_time(calls)
        rec.tick_until(lambda: latest_time(calls) >= shown_at + 2, 5, "the recording time shown going on")
        url = rec.stop(slow_parts=1.2)
        final = notification_service.wait_for(lambda cs: cs[-1].summary == "Upload complete" and cs[-1], 10)
    finally:
        rec.close()
        notifier.close_connection()
    calls = list(notification_service.calls)
    texts = [(c.summary, c.body, c.hint("value")) for c in calls]

    # one notification, updated in place
    nid = calls[0].returned_id
    assert calls[0].replaces_id == 0 and all(c.replaces_id == nid and c.returned_id == nid for c in calls[1:]), texts

    # while recording: time + parts, no percentage and no bar
    recording = [c for c in calls if c.summary.startswith("Recording")]
    assert len(recording) >= 4, texts
    assert calls[:len(recording)] == recording, f"recording notifications must come first: {texts}"
    for c in recording:
        assert re.fullmatch(r"Recording \d\d:\d\d", c.summary), texts
        assert re.fullmatch(r"No part uploaded yet|1 part uploaded|([2-9]|\d\d+) parts uploaded", c.body), texts
        assert c.hint("value") is None and "%" not in c.body, texts
    times = [int(c.summary[-5:-3]) * 60 + int(c.summary[-2:]) for c in recording]
    assert times == sorted(times) and times[-1] >= 2, texts
    counts = [parts_in(c.body) for c in recording]
    assert counts == sorted(counts) and counts[-1] >= 3, texts

    # at most 2 updates per second (sent >= 0.5 s apart; received times, with slack for bus delivery)
    progress = calls[:-1]
    assert all(b.at - a.at >= 0.4 for a, b in zip(progress, progress[1:])), [round(c.at, 2) for c in progress]

    # after the stop: real upload progress of the whole file, then the link
    uploading = calls[len(recording):-1]
    assert uploading, f"no upload progress shown after the stop: {texts}"
    total = human_bytes(SIZE)
    for c in uploading:
        assert c.summary.startswith("Uploading") or c.summary == "Finishing upload…", texts
        m = re.fullmatch(rf"(\d+)% · ([\d.]+ [KMG]?B) of {re.escape(total)}( · .*)?", c.body)
        assert m and int(m[1]) == c.hint("value"), texts
    assert any(0 < c.hint("value") < 100 for c in uploading), f"no intermediate percentage: {texts}"
    assert final.body == url and final.actions[:2] == ["copy", "Copy link"]
    assert download_sha(server.url, url, server.token) == sha256_file(rec.path)


def test_recording_notification_in_dunst(dunst, server, tmp_path, artifacts_dir):  # noqa: F811
    """The same flow shown by a real notification daemon; the picture during recording is kept."""
    require_tools("dunstctl", "import")
    notifier = DBusNotifier(call_timeout=3.0).open()
    rec = Recording(server, tmp_path, notifier)
    try:
        rec.start()
        rec.tick_until(lambda: rec.parts_acked(1, 2, 3), 60, "parts 1-3 acked while recording")
        rec.tick_until(lambda: rec.progress.sent_updates >= 3, 10, "a few updates")
        time.sleep(1.2)  # the 3-parts text is shown (next tick) and drawn
        rec.progress.tick()
        time.sleep(0.5)
        img = grab(artifacts_dir / "notification_recording.png")
        corner = img.crop((img.width - 420, 0, img.width, 160))
        corner.save(artifacts_dir / "notification_recording-crop.png")
        assert len(corner.getcolors(1 << 20)) > 10, "nothing drawn where dunst shows notifications"
        rec.stop()
    finally:
        rec.close()
        notifier.close_connection()
