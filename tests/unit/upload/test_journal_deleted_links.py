"""A link the owner deleted on the server (issue 15 "Delete", issue 20 History): journal schema version 3 keeps the
history row and records ``deleted_at``; an older journal is migrated in place without losing a row; the History
window's model shows "link deleted" (searchable), with no link to copy or open and the file still uploadable again;
the tray's Recent uploads leave it out."""

from __future__ import annotations

import sqlite3

import pytest

from tray.upload.history import UploadHistory
from tray.upload.journal import SCHEMA_VERSION, JournalError, UploadJournal

V2_JOURNAL = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('video',
    'screenshot')), local_path TEXT NOT NULL, metadata TEXT NOT NULL DEFAULT '{}', server_url TEXT,
    server_session_id TEXT, state TEXT NOT NULL, durable_bytes INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL
    DEFAULT 0, total_size INTEGER, duration REAL, url TEXT, error TEXT, created_at REAL NOT NULL,
    updated_at REAL NOT NULL);
CREATE TABLE parts (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
    "offset" INTEGER NOT NULL, length INTEGER NOT NULL, sha256 TEXT, acked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, idx));
CREATE TABLE history (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER, kind TEXT NOT NULL,
    local_path TEXT NOT NULL, url TEXT NOT NULL, size INTEGER, duration REAL, server_url TEXT,
    completed_at REAL NOT NULL, file_url TEXT, page_url TEXT);
INSERT INTO sessions (kind, local_path, state, finished, total_size, url, created_at, updated_at)
    VALUES ('screenshot', '/c/shot.png', 'completed', 1, 10, 'http://h/s/abc', 1, 2);
INSERT INTO history (session_id, kind, local_path, url, size, completed_at, file_url, page_url)
    VALUES (1, 'screenshot', '/c/shot.png', 'http://h/s/abc', 10, 2, 'http://h/s/abc.png', 'http://h/s/abc');
PRAGMA user_version = 2;
"""


def old_journal(folder, version: int, changes: str = ""):
    """``folder/uploads.sqlite3`` as an older Snaplark left it: the version-2 journal, ``changes``, ``version``."""
    path = folder / "uploads.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(V2_JOURNAL.replace("PRAGMA user_version = 2;", "") + changes
                       + f" PRAGMA user_version = {version};")
    conn.close()
    return path


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_version_2_journal_gains_deleted_at_and_keeps_its_rows(tmp_path):
    path = tmp_path / "uploads.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(V2_JOURNAL)
    conn.close()
    with UploadJournal(path, clock=Clock()) as j:
        assert SCHEMA_VERSION >= 3 and j.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        (h,) = j.history()
        assert (h.url, h.file_url, h.page_url, h.deleted_at) == \
            ("http://h/s/abc", "http://h/s/abc.png", "http://h/s/abc", None)
        assert j.get_session(1).state == "completed"
        assert j.mark_link_deleted("http://h/s/abc.png") == 1  # the file's link names the same upload
        assert j.history()[0].deleted_at == 100.0
    with UploadJournal(path) as j:  # opened again: nothing migrates twice, the mark stays
        assert j.history()[0].deleted_at == 100.0


def test_mark_link_deleted_matches_page_or_file_of_that_host_only_and_keeps_the_first_time(tmp_path):
    clock = Clock()
    with UploadJournal(tmp_path / "j.sqlite3", clock=clock) as j:
        sid = j.create_session("video", tmp_path / "rec.webm", finished=True, total_size=5)
        j.complete(sid, "http://h/v/A1", file_url="http://files.h/v/A1.webm", page_url="http://h/v/A1")
        j.add_history("screenshot", str(tmp_path / "old.png"), "http://h/s/B2.png")  # no session (old journal)
        j.add_history("screenshot", str(tmp_path / "other.png"), "http://elsewhere/s/B2.png")  # another server
        assert j.mark_link_deleted("http://nobody/v/zz") == 0
        assert j.mark_link_deleted(" http://files.h/v/A1.webm ") == 1  # raw files from their own origin
        clock.now = 200.0
        assert j.mark_link_deleted("http://h/v/A1") == 0  # already marked: the first time stays
        assert j.mark_link_deleted("http://h/s/B2") == 1  # the page of a history row that names only the file
        by_url = {h.url: h.deleted_at for h in j.history()}
        assert by_url == {"http://h/v/A1": 100.0, "http://h/s/B2.png": 200.0, "http://elsewhere/s/B2.png": None}
        assert [h.url for h in j.history(alive_only=True)] == ["http://elsewhere/s/B2.png"]
        assert [h.url for h in UploadHistory(j).entries(5, alive_only=True)] == ["http://elsewhere/s/B2.png"]


def test_history_window_rows_say_link_deleted_and_allow_only_what_still_works(tmp_path):
    from tray.ui.history_actions import HistoryActions
    from tray.ui.history_model import DELETED, build_items, search

    with UploadJournal(tmp_path / "j.sqlite3", clock=Clock()) as j:
        for name in ("screenshot-1.png", "screenshot-2.png"):
            (tmp_path / name).write_bytes(b"png")
            sid = j.create_session("screenshot", tmp_path / name, finished=True, total_size=3)
            j.complete(sid, f"http://h/s/{name[:-4]}")
        UploadHistory(j).mark_link_deleted("http://h/s/screenshot-1")
        items = {i.name: i for i in build_items(UploadHistory(j).catalog())}
    gone, alive = items["screenshot-1.png"], items["screenshot-2.png"]
    assert (gone.status, gone.state_text, gone.url) == (DELETED, "link deleted", "http://h/s/screenshot-1")
    assert alive.state_text == "uploaded"
    assert [i.name for i in search(list(items.values()), "link deleted")] == ["screenshot-1.png"]
    actions = HistoryActions(None, engine=lambda: None, confirm=lambda *a: True, changed=lambda: None,
                             say=lambda text: None, delete_link=lambda item: None)
    assert actions.enabled(gone) == {"copy_link": False, "open_link": False, "open_file": True, "show_folder": True,
                                     "retry": False, "reupload": True, "delete_link": False, "delete_file": True,
                                     "save_gif": False}
    assert actions.enabled(alive)["copy_link"] and actions.enabled(alive)["delete_link"]


def test_a_journal_newer_than_this_version_is_still_refused(tmp_path):
    path = tmp_path / "uploads.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this Snaplark "
                                           f"\\({SCHEMA_VERSION}\\)"):
        UploadJournal(path).open()


def test_a_version_3_journal_gains_expires_at_and_keeps_its_rows(tmp_path):
    """Schema 4 (the History window's "expires in …"): a version-3 journal -- a link deleted already -- is migrated in
    place; its rows keep every value and have no expiry; a new upload keeps the server's expiresAt."""
    path = old_journal(tmp_path, 3, "ALTER TABLE history ADD COLUMN deleted_at REAL; "
                                    "UPDATE history SET deleted_at = 50;")
    with UploadJournal(path, clock=Clock()) as j:
        assert j.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 4
        (h,) = j.history()
        assert (h.url, h.file_url, h.deleted_at, h.expires_at) == ("http://h/s/abc", "http://h/s/abc.png", 50, None)
        sid = j.create_session("screenshot", "/c/two.png", finished=True, total_size=5)
        j.complete(sid, "http://h/s/two", expires_at=1_900_000_000.0)
        assert j.history()[0].expires_at == 1_900_000_000.0
        assert [row.expires_at for row in UploadHistory(j).catalog()] == [1_900_000_000.0, None]
    with UploadJournal(path) as j:  # opened again: kept
        assert [h.expires_at for h in j.history()] == [1_900_000_000.0, None]


def test_upload_links_give_expires_at_as_a_unix_time():
    from tray.upload.links import UploadLinks

    links = UploadLinks.from_answer({"url": "http://h/s/a.png", "expiresAt": "2026-12-13T18:00:00Z"})
    assert links.expires_timestamp == 1_797_184_800.0
    assert UploadLinks.from_answer({"url": "u"}).expires_timestamp is None
    assert UploadLinks("u", expires_at="next week").expires_timestamp is None  # not ISO 8601: no expiry shown


def test_recent_uploads_leave_out_links_that_expired(tmp_path):
    """``alive_only`` (the tray's Recent uploads) drops a link once its expiry is past by the journal's clock."""
    clock = Clock()
    with UploadJournal(tmp_path / "uploads.sqlite3", clock=clock) as j:
        for name, expires_at in (("a", None), ("b", 200.0), ("c", 300.0)):
            sid = j.create_session("screenshot", f"/c/{name}.png", finished=True, total_size=5)
            j.complete(sid, f"http://h/s/{name}", expires_at=expires_at)
        history = UploadHistory(j)
        assert [h.url[-1] for h in history.entries(alive_only=True)] == ["c", "b", "a"]
        clock.now = 250.0
        assert [h.url[-1] for h in history.entries(2, alive_only=True)] == ["c", "a"]
        assert len(history.entries()) == 3  # the History window still lists it ("expired")
