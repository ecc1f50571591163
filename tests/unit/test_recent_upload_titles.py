"""Recent uploads menu titles (issue 12 #15): kind, duration for recordings, local time; a date when not today."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from tray.ui.tray_icon import RecentUpload


def ts(y, mo, d, h, mi) -> float:
    return dt.datetime(y, mo, d, h, mi).timestamp()  # local time


NOW = ts(2026, 12, 6, 18, 30)


@pytest.mark.parametrize("kind,duration,when,title", [
    ("screenshot", None, ts(2026, 12, 6, 14, 3), "Screenshot 14:03"),
    ("video", 161.4, ts(2026, 12, 6, 14, 5), "Recording 2:41 · 14:05"),
    ("video", 3723, ts(2026, 12, 6, 0, 1), "Recording 1:02:03 · 00:01"),
    ("video", None, ts(2026, 12, 6, 9, 0), "Recording 09:00"),  # duration unknown (an interrupted recording)
    ("video", 0.0, ts(2026, 12, 6, 9, 0), "Recording 09:00"),
    ("screenshot", None, ts(2026, 12, 5, 23, 59), "Screenshot 5 Dec 23:59"),
    ("screenshot", None, ts(2025, 3, 1, 8, 0), "Screenshot 1 Mar 2025 08:00"),
])
def test_titles(kind, duration, when, title):
    upload = RecentUpload.describe(kind, "http://h/x", when, duration, now=NOW)
    assert upload == RecentUpload(title, "http://h/x")


def test_from_a_history_row():
    row = types.SimpleNamespace(id=3, session_id=9, kind="video", local_path="/c/recording-1767013500000.webm",
                                url="http://h/v/b.webm", size=10, duration=12.0, server_url=None,
                                completed_at=ts(2026, 12, 6, 14, 5))
    assert RecentUpload.from_history(row, now=NOW).title == "Recording 0:12 · 14:05"
