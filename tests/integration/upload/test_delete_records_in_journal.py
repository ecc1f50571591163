"""``snaplark delete LINK`` records the deletion in this user's upload journal (schema version 3, ``deleted_at``) so
the History window and the tray's Recent uploads stop offering a dead link -- against the real reference server and
the strict seed-only server (no delete: nothing is recorded)."""

from __future__ import annotations

import requests

from tray.cli import main
from tray.upload.history import UploadHistory
from tray.upload.journal import UploadJournal, default_journal_path

from tests.integration.server.test_share_pages import png_bytes
from tests.server_kinds import server_each_kind  # noqa: F401 - the `server` fixture, of each kind

from .helpers import TokenHolder, make_engine


def upload_shot(server, tmp_path, name="shot.png") -> str:
    shot = tmp_path / name
    shot.write_bytes(png_bytes())
    with UploadJournal(default_journal_path()) as journal:  # the journal `snaplark` itself uses
        engine = make_engine(server.api_url, TokenHolder(server.token), journal, copy="page")
        try:
            return engine.upload_screenshot(shot).wait(30)
        finally:
            assert engine.stop(10)


def deleted_at() -> dict[str, float | None]:
    with UploadJournal(default_journal_path()) as journal:
        return {h.local_path.rsplit("/", 1)[1]: h.deleted_at for h in journal.history()}


def test_snaplark_delete_marks_the_link_deleted_in_the_journal(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    link = upload_shot(server, tmp_path)
    other = upload_shot(server, tmp_path, "other.png")
    if server.kind == "seed":
        assert main(["delete", link, "--server", server.api_url]) == 1
        assert "this server cannot delete links" in capsys.readouterr().err
        assert deleted_at() == {"shot.png": None, "other.png": None}  # nothing happened: nothing recorded
        return
    assert main(["delete", link, "--server", server.api_url]) == 0
    assert requests.get(link, timeout=30).status_code == 410
    marks = deleted_at()
    assert marks["shot.png"] is not None and marks["other.png"] is None
    with UploadJournal(default_journal_path()) as journal:
        assert [h.url for h in UploadHistory(journal).entries(alive_only=True)] == [other]
    capsys.readouterr()
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert f"  {link} [link deleted]  (" in out and f"  {other}  (" in out and out.count("[link deleted]") == 1, out


def test_a_link_deleted_from_another_computer_is_recorded_when_deleted_here(server, tmp_path, capsys, monkeypatch):
    if server.kind == "seed":
        return  # a seed server deletes nothing
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    link = upload_shot(server, tmp_path)
    from tray.api.client import ApiClient
    from tray.upload.links import object_of_link

    client = ApiClient(server.api_url, lambda: server.token)  # another computer deletes it: this journal is not told
    try:
        client.delete_object(object_of_link(link)[1])
    finally:
        client.close()
    assert deleted_at() == {"shot.png": None}
    assert main(["delete", link, "--server", server.api_url]) == 0  # the server's 410: deleted already, no failure
    assert f"{link} was deleted already; its links answer 410 Gone" in capsys.readouterr().out
    assert deleted_at()["shot.png"] is not None
