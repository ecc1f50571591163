"""Recent uploads in the tray menu of the real tray app object (issue 12 #15): named "Screenshot 14:03" /
"Recording 2:41 · 14:05" from the real upload journal (not file names with epoch milliseconds); clicking one puts the
link on the real X clipboard (xclip on Xvfb) and confirms with a short "Link copied" notification, received by the
recording notification service on a real private session bus.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import types

import pytest

from desktop_helpers import menu_app  # noqa: F401 - the `app` fixture
from desktop_helpers import run_posted, require_tools, wait_until
from tray.upload.history import UploadHistory
from tray.upload.journal import UploadJournal

pytestmark = pytest.mark.e2e


def at_today(hour: int, minute: int) -> float:
    return dt.datetime.combine(dt.date.today(), dt.time(hour, minute)).timestamp()


def test_recent_uploads_named_by_kind_duration_and_time_click_copies_and_confirms(app, notification_service,
                                                                                tmp_path, desktop_display):
    require_tools("xclip")
    from tray_platform.linux.clipboard import XclipClipboard

    now = [at_today(14, 3)]
    journal = UploadJournal(tmp_path / "data" / "uploads.sqlite3", clock=lambda: now[0]).open()
    try:
        yesterday = dt.datetime.combine(dt.date.today() - dt.timedelta(days=1), dt.time(9, 15)).timestamp()
        now[0] = yesterday
        journal.add_history("screenshot", str(tmp_path / "shot-1766900000000.png"), "http://h/s/old.png")
        now[0] = at_today(14, 3)
        journal.add_history("screenshot", str(tmp_path / "shot-1767013380000.png"), "http://h/s/a.png")
        now[0] = at_today(14, 5)
        journal.add_history("video", str(tmp_path / "recording-1767013500000.webm"), "http://h/v/b.webm",
                            duration=161.2)
        app.stack = types.SimpleNamespace(history=UploadHistory(journal))  # what the tray app reads it from
        app.clipboard = XclipClipboard()
        app.recent.refresh()
        recent = app.tray.menu_spec()[7]
        assert recent.text == "Recent uploads"
        y = dt.date.today() - dt.timedelta(days=1)
        year = "" if y.year == dt.date.today().year else f" {y.year}"
        assert [e.text for e in recent.submenu] == [
            "Recording 2:41 · 14:05", "Screenshot 14:03", f"Screenshot {y.day} {y:%b}{year} 09:15", "-",
            "Delete link…"]

        # an upload that completes now is listed by the same rule (the journal wrote its history row)
        now[0] = at_today(14, 7)
        journal.add_history("video", str(tmp_path / "recording-1767013600000.webm"), "http://h/v/c.webm",
                            duration=7.4)
        app.recent.uploaded("http://h/v/c.webm", types.SimpleNamespace(path=tmp_path / "recording-1767013600000.webm"),
                      copy=False)
        assert app.tray.menu_spec()[7].submenu[0].text == "Recording 0:07 · 14:07"
        assert notification_service.calls == []  # nothing copied, nothing said

        # click "Recording 2:41 · 14:05": the tray thread only posts; the app copies and confirms
        app.tray.menu_spec()[7].submenu[1].action()
        run_posted(app)
    finally:
        journal.close()
    got = wait_until(lambda: _clip() == "http://h/v/b.webm" and _clip(), 5, what="the link on the clipboard")
    assert got == "http://h/v/b.webm"
    call = notification_service.wait_for(lambda calls: calls and calls[-1])
    assert (call.summary, call.body) == ("Link copied", "http://h/v/b.webm")
    assert call.hint("urgency") == 1 and 0 < call.expire_timeout <= 5_000, (call.hints, call.expire_timeout)


def _clip() -> str:
    try:
        r = subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True, text=True, timeout=2)
    except subprocess.TimeoutExpired:
        return ""
    return r.stdout
