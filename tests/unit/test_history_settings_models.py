"""Issue 20's display-free parts: the History window's rows from a real journal's catalog (states, local-only
files, search), and the Settings window's checks (the schema's own messages, hotkey clashes) and key recording."""

from __future__ import annotations

import pytest

from tray.ui import settings_form as form
from tray.ui.history_model import build_items, search
from tray.ui.hotkey_recorder import CANCEL, CLEAR, combo_from_key


@pytest.fixture
def journal(tmp_path):
    from tray.upload.journal import PartRecord, UploadJournal

    clock = iter(range(1000, 2000))
    j = UploadJournal(tmp_path / "j.sqlite3", clock=lambda: float(next(clock))).open()
    done = j.create_session("screenshot", tmp_path / "screenshot-1.png", finished=True, total_size=100)
    j.complete(done, "http://x/s/1")
    failed = j.create_session("video", tmp_path / "recording-2.webm", finished=True, total_size=200, duration=3.0)
    j.set_state(failed, "failed", error="gone")
    half = j.create_session("screenshot", tmp_path / "screenshot-3.png", finished=True, total_size=400)
    j.add_parts(half, [PartRecord(0, 0, 100, acked=True), PartRecord(1, 100, 300)])
    j.set_state(half, "uploading")
    offline = j.create_session("screenshot", tmp_path / "screenshot-4.png", finished=True, total_size=10)
    j.set_state(offline, "paused_offline")
    j.add_history("screenshot", str(tmp_path / "screenshot-0.png"), "http://x/s/0", size=5)
    yield j
    j.close()


def test_catalog_rows_states_and_local_files(journal, tmp_path):
    from tray.upload.history import UploadHistory

    local = (tmp_path / "screenshot-9.png", "screenshot", 5000.0, 7)
    known = (tmp_path / "screenshot-1.png", "screenshot", 5001.0, 100)  # in the journal: listed once
    items = build_items(UploadHistory(journal).catalog(), [local, known])
    assert [(i.name, i.state_text) for i in items] == [
        ("screenshot-9.png", "local only"), ("screenshot-0.png", "uploaded"),
        ("screenshot-4.png", "waiting (offline)"), ("screenshot-3.png", "uploading 25%"),
        ("recording-2.webm", "failed: gone"), ("screenshot-1.png", "uploaded")]
    assert [i.name for i in search(items, "failed")] == ["recording-2.webm"]
    assert [i.name for i in search(items, "UPLOADED screenshot-1")] == ["screenshot-1.png"]
    assert items[4].retryable and not items[5].retryable and items[5].url == "http://x/s/1"


def test_live_progress_wins_over_the_journal(journal):
    from tray.upload.history import UploadHistory
    from tray.upload.progress import ProgressSnapshot
    from tray.upload.state import UploadState

    live = ProgressSnapshot(3, "screenshot", UploadState.UPLOADING, bytes_sent=300, bytes_total=400)
    items = build_items(UploadHistory(journal).catalog(), progress_of=lambda sid: live if sid == 3 else None)
    assert {i.name: i.state_text for i in items}["screenshot-3.png"] == "uploading 75%"


def test_field_problems_are_config_sets_words():
    assert form.problem("capture.fps", "500") == "capture.fps = 500: must be between 1 and 120"
    assert form.problem("capture.fps", "60") is None
    assert form.problem("server.url", "ftp://x").startswith("server.url = 'ftp://x': must be an http")
    values = form.current_values(__import__("tray.config", fromlist=["Settings"]).Settings())
    values["hotkeys.record_region"] = "<ctrl>+<alt>+s"
    found = form.problems(values, "hotkeys.record_region")
    assert list(found) == ["hotkeys.record_region"]
    assert "already used by hotkeys.capture_region" in found["hotkeys.record_region"]
    assert form.needs_restart(["capture.fps", "server.url"]) == ["the server"]


@pytest.mark.parametrize("keysym, state, expected", [
    ("h", 0x4 | 0x8, "<ctrl>+<alt>+h"), ("H", 0x4 | 0x8 | 0x1, "<ctrl>+<alt>+<shift>+h"),
    ("exclam", 0x4 | 0x1, "<ctrl>+<shift>+1"), ("F5", 0x8, "<alt>+<f5>"), ("Print", 0, "<print_screen>"),
    ("period", 0x40, "<cmd>+."), ("Control_L", 0x4, None), ("Escape", 0, CANCEL), ("BackSpace", 0, CLEAR),
    ("Escape", 0x4, "<ctrl>+<esc>"),
])
def test_key_presses_in_the_grammars_spelling(keysym, state, expected):
    assert combo_from_key(keysym, state) == expected
