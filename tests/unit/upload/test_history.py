"""Upload history as an upload-owned read view (issue 13): the upload stack builds it once over its journal, the
tray's Recent uploads menu and ``snaplark history`` read that view. Real SQLite journals in tmp; no network (the
server connection is never used)."""

from __future__ import annotations

import argparse
import json

from tray import config
from tray.commands import history as history_cmd
from tray.services import ServerConnection, UploadStack, open_upload_history
from tray.upload.history import UploadHistory
from tray.upload.journal import UploadJournal, default_journal_path


def journal_with(tmp_path, *rows):
    now = [1_767_000_000.0]
    journal = UploadJournal(tmp_path / "uploads.sqlite3", clock=lambda: now[0]).open()
    for kind, url in rows:
        now[0] += 60
        journal.add_history(kind, str(tmp_path / f"{kind}.bin"), url, size=1234)
    return journal


def test_entries_newest_first_with_a_limit(tmp_path):
    journal = journal_with(tmp_path, ("screenshot", "http://h/s/1"), ("video", "http://h/v/2"),
                           ("screenshot", "http://h/s/3"))
    try:
        history = UploadHistory(journal)
        assert [e.url for e in history.entries()] == ["http://h/s/3", "http://h/v/2", "http://h/s/1"]
        assert [e.url for e in history.entries(2)] == ["http://h/s/3", "http://h/v/2"]
    finally:
        journal.close()


def test_the_upload_stack_builds_the_history_over_its_own_journal(tmp_path):
    stack = UploadStack(config.Settings(), connection=ServerConnection("http://127.0.0.1:9/api/v1", lambda: None))
    with stack:
        assert isinstance(stack.history, UploadHistory)
        stack.journal.add_history("video", str(tmp_path / "r.webm"), "http://h/v/9", duration=3.0)
        (entry,) = stack.history.entries(10)
        assert (entry.kind, entry.url, entry.duration) == ("video", "http://h/v/9", 3.0)
    assert stack.history is None and stack.journal is None


def test_snaplark_history_reads_the_history_it_is_given(tmp_path, capsys):
    (tmp_path / "elsewhere").mkdir()
    journal = journal_with(tmp_path / "elsewhere", ("screenshot", "http://h/s/given"))
    try:
        rc = history_cmd.run(argparse.Namespace(limit=20, json=True, window=False), history=UploadHistory(journal))
    finally:
        journal.close()
    assert rc == 0
    assert [e["url"] for e in json.loads(capsys.readouterr().out)] == ["http://h/s/given"]
    assert not default_journal_path().exists()  # the data dir's journal was not opened (nor created)


def test_snaplark_history_opens_the_data_dirs_journal_by_default(capsys):
    with open_upload_history() as history:
        assert history.entries() == []
    journal = UploadJournal(default_journal_path()).open()
    try:
        journal.add_history("video", "/tmp/r.webm", "http://h/v/default", size=2048)
    finally:
        journal.close()
    assert history_cmd.run(argparse.Namespace(limit=0, json=False, window=False)) == 0
    out = capsys.readouterr().out
    assert "http://h/v/default" in out and "/tmp/r.webm" in out
