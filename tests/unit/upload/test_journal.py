import sqlite3

import pytest

from tray.upload.journal import SCHEMA_VERSION, JournalError, PartRecord, UploadJournal


@pytest.fixture
def journal(tmp_path):
    j = UploadJournal(tmp_path / "j" / "uploads.sqlite3").open()
    yield j
    j.close()


def test_round_trip_survives_reopen(tmp_path):
    path = tmp_path / "uploads.sqlite3"
    with UploadJournal(path) as j:
        sid = j.create_session("video", tmp_path / "rec.webm", {"fps": 30}, server_url="http://x/api/v1")
        j.update_session(sid, server_session_id="abc", state="uploading", finished=True, total_size=123,
                         duration=1.5)
        j.add_parts(sid, [PartRecord(0, 0, 100), PartRecord(1, 100, 23, "ff")], durable_bytes=123)
        j.mark_acked(sid, 1, "ee")
    with UploadJournal(path) as j:
        rec = j.get_session(sid)
        assert rec.kind == "video" and rec.local_path.endswith("rec.webm") and rec.metadata == {"fps": 30}
        assert (rec.server_session_id, rec.state, rec.finished, rec.total_size, rec.duration) == \
            ("abc", "uploading", True, 123, 1.5)
        assert rec.durable_bytes == 123
        assert [(p.index, p.offset, p.length, p.sha256, p.acked) for p in rec.parts] == \
            [(0, 0, 100, None, False), (1, 100, 23, "ee", True)]
        assert [r.id for r in j.resumable_sessions()] == [sid]
        mode = j.connection.execute("PRAGMA journal_mode").fetchone()[0]
        version = j.connection.execute("PRAGMA user_version").fetchone()[0]
    assert mode == "wal" and version == SCHEMA_VERSION


def test_complete_moves_to_history_atomically(journal, tmp_path):
    sid = journal.create_session("screenshot", tmp_path / "a.png", finished=True, total_size=10)
    journal.complete(sid, "http://x/s/1.png")
    assert journal.get_session(sid).state == "completed"
    assert journal.resumable_sessions() == []
    (h,) = journal.history()
    assert (h.session_id, h.kind, h.url, h.size) == (sid, "screenshot", "http://x/s/1.png", 10)


def test_reset_acks_forgets_session_and_acks(journal, tmp_path):
    sid = journal.create_session("video", tmp_path / "v.webm")
    journal.add_parts(sid, [PartRecord(0, 0, 5), PartRecord(1, 5, 5)])
    journal.set_acked(sid, {0: True, 1: True})
    journal.reset_acks(sid, "new-session")
    rec = journal.get_session(sid)
    assert rec.server_session_id == "new-session" and not any(p.acked for p in rec.parts)


def test_unknown_fields_and_sessions(journal):
    with pytest.raises(ValueError):
        journal.update_session(1, bogus=1)
    with pytest.raises(JournalError):
        journal.update_session(999, state="failed")


def test_disk_full_is_a_clear_error_and_nothing_is_half_written(journal, tmp_path):
    sid = journal.create_session("video", tmp_path / "v.webm")
    journal.add_parts(sid, [PartRecord(0, 0, 5)])
    conn = journal.connection
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    many = [PartRecord(i, i * 5, 5, "a" * 64) for i in range(1, 3000)]
    with pytest.raises(JournalError, match="disk is full"):
        journal.add_parts(sid, many, durable_bytes=15000)
    rec = journal.get_session(sid)
    assert [p.index for p in rec.parts] == [0] and rec.durable_bytes == 0  # the transaction was rolled back
    conn.execute("PRAGMA max_page_count = 1073741823")
    journal.add_parts(sid, many[:3])  # usable again once there is space
    assert len(journal.parts(sid)) == 4


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "uploads.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match="newer"):
        UploadJournal(path).open()


def test_kind_is_checked(journal, tmp_path):
    with pytest.raises(JournalError):
        journal.create_session("audio", tmp_path / "x")


def test_a_corrupt_journal_file_is_a_clear_error(tmp_path):
    path = tmp_path / "uploads.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="cannot open upload journal"):
        UploadJournal(path).open()
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was
