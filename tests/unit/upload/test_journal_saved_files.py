"""Files Snaplark writes that are no upload -- a GIF saved from a recording (issue 19/20) -- in the upload journal
(schema version 5, ``saved_files``): History lists the GIF as its own row (kind "gif", local only), ``snaplark
history`` lists it "(not uploaded)"; once it is uploaded it is one row with its link and still kind "gif"; a version-4
journal is migrated in place keeping its rows. Real SQLite journals in tmp."""

from __future__ import annotations

import argparse
import json

from tray.commands import history as history_cmd
from tray.ui.history_model import LOCAL, UPLOADED, build_items
from tray.upload.history import UploadHistory
from tray.upload.journal import SCHEMA_VERSION, UploadJournal

from tests.unit.upload.test_journal_deleted_links import Clock, old_journal


def gif_file(folder, name="rec.gif", size=1234):
    path = folder / name
    path.write_bytes(b"GIF89a" + b"\0" * (size - 6))
    return path


def test_a_saved_gif_is_a_local_row_of_kind_gif_then_one_uploaded_row_with_its_link(tmp_path):
    clock = Clock()
    gif = gif_file(tmp_path)
    with UploadJournal(tmp_path / "uploads.sqlite3", clock=clock) as j:
        history = UploadHistory(j)
        history.record_saved("gif", gif, source=tmp_path / "rec.webm", duration=2.5)
        (item,) = build_items(history.catalog(), now=clock.now)
        assert (item.kind, item.kind_text, item.status, item.state_text) == ("gif", "GIF", LOCAL, "local only")
        assert (item.local_path, item.size, item.duration, item.url) == (str(gif), 1234, 2.5, None)
        (saved,) = history.saved()
        assert (saved.kind, saved.local_path, saved.source_path) == ("gif", str(gif), str(tmp_path / "rec.webm"))
        assert j.history() == []

        gif_file(tmp_path, size=2000)  # saved again over it (`snaplark gif --overwrite`): one row, the new size
        history.record_saved("gif", gif, source=tmp_path / "rec.webm", duration=2.5)
        assert [i.size for i in build_items(history.catalog())] == [2000]

        clock.now = 200.0  # uploaded: the engine's session says "screenshot" (the image endpoint)
        sid = j.create_session("screenshot", gif, finished=True, total_size=2000)
        j.complete(sid, "http://h/s/gif1.gif")
        (item,) = build_items(history.catalog(), now=clock.now)
        assert (item.kind, item.status, item.url, item.session_id) == ("gif", UPLOADED, "http://h/s/gif1.gif", sid)
        (h,) = j.history()
        assert (h.kind, h.local_path, h.url) == ("gif", str(gif), "http://h/s/gif1.gif")
        assert history.saved() == []


def test_snaplark_history_lists_saved_gifs_with_the_uploads_newest_first(tmp_path, capsys):
    clock = Clock()
    with UploadJournal(tmp_path / "uploads.sqlite3", clock=clock) as j:
        sid = j.create_session("screenshot", tmp_path / "shot.png", finished=True, total_size=10)
        j.complete(sid, "http://h/s/shot")
        clock.now = 300.0
        UploadHistory(j).record_saved("gif", gif_file(tmp_path))
        args = argparse.Namespace(limit=20, json=False, window=False)
        assert history_cmd.run(args, history=UploadHistory(j)) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2
        assert "gif" in lines[0] and "1.2 KB" in lines[0] and "(not uploaded)" in lines[0] \
            and lines[0].endswith(f"({tmp_path / 'rec.gif'})")
        assert "http://h/s/shot" in lines[1]
        assert history_cmd.run(argparse.Namespace(limit=1, json=True, window=False), history=UploadHistory(j)) == 0
        (row,) = json.loads(capsys.readouterr().out)
        assert (row["kind"], row["url"], row["local_path"], row["size"], row["created_at"]) == \
            ("gif", None, str(tmp_path / "rec.gif"), 1234, 300.0)


def test_a_version_4_journal_gains_saved_files_and_keeps_its_rows(tmp_path):
    path = old_journal(tmp_path, 4, "ALTER TABLE history ADD COLUMN deleted_at REAL; "
                                    "ALTER TABLE history ADD COLUMN expires_at REAL;")
    with UploadJournal(path, clock=Clock()) as j:
        assert j.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 5
        assert [(r.kind, r.url, r.state) for r in UploadHistory(j).catalog()] == \
            [("screenshot", "http://h/s/abc", "completed")]
        UploadHistory(j).record_saved("gif", gif_file(tmp_path))
    with UploadJournal(path) as j:  # opened again: kept
        assert [(r.kind, r.state) for r in UploadHistory(j).catalog()] == [("gif", "saved"),
                                                                           ("screenshot", "completed")]
