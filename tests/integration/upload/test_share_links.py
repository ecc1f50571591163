"""The client side of share pages (issue 15): which link an upload completes with (``upload.copy``), both links kept
in the history, and ``snaplark delete`` / ``snaplark trim`` -- against the real reference server and the strict
seed-only server (which has no pageUrl, no delete, no trim)."""

from __future__ import annotations

import io
import sqlite3

import pytest
import requests

from tray.cli import main
from tray.config import ConfigError, load_config
from tray.upload.journal import SCHEMA_VERSION, UploadJournal

from tests.integration.server.test_share_pages import make_video, png_bytes
from tests.server_kinds import server_each_kind  # noqa: F401 - the `server` fixture, of each kind

from .helpers import TokenHolder, download_sha, make_engine, sha256_file


@pytest.mark.parametrize("copy", ["page", "file"])
def test_upload_completes_with_the_link_the_setting_names(server, journal, tmp_path, copy):
    shot = tmp_path / "shot.png"
    shot.write_bytes(png_bytes())
    video = make_video(tmp_path / "clip.webm", seconds=2)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal, copy=copy)
    try:
        shot_link = engine.upload_screenshot(shot).wait(30)
        video_link = engine.upload_file(video, {"fps": 30}).wait(60)
    finally:
        assert engine.stop(10)
    history = {h.kind: h for h in journal.history()}
    for link, h, path, ext in ((shot_link, history["screenshot"], shot, ".png"),
                               (video_link, history["video"], video, ".webm")):
        assert h.url == link and h.file_url.endswith(ext)
        assert download_sha(server.url, h.file_url) == sha256_file(path)
        if server.kind == "seed":  # no share pages: always the file, whatever the setting
            assert link == h.file_url and h.page_url is None
        elif copy == "page":
            assert link == h.page_url and link == h.file_url[: -len(ext)]
            page = requests.get(link, timeout=30)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        else:
            assert link == h.file_url and h.page_url == h.file_url[: -len(ext)]
    assert journal.get_session(history["video"].session_id).url == video_link  # what the tray menu copies


def test_engine_default_is_the_file(server, journal, tmp_path):
    shot = tmp_path / "shot.png"
    shot.write_bytes(png_bytes())
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        assert engine.upload_screenshot(shot).wait(30).endswith(".png")
    finally:
        assert engine.stop(10)


def test_journal_version_1_gains_both_link_columns(tmp_path):
    path = tmp_path / "uploads.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("""CREATE TABLE history (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER,
        kind TEXT NOT NULL, local_path TEXT NOT NULL, url TEXT NOT NULL, size INTEGER, duration REAL,
        server_url TEXT, completed_at REAL NOT NULL);
        INSERT INTO history (kind, local_path, url, completed_at) VALUES ('screenshot', '/x.png', 'http://s/s/a.png', 1);
        PRAGMA user_version = 1;""")
    conn.close()
    with UploadJournal(path) as j:
        (h,) = j.history()
        assert (h.url, h.file_url, h.page_url) == ("http://s/s/a.png", None, None)
        assert j.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # and on (deleted_at)


def test_upload_copy_setting_is_validated(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('schema_version = 2\n[upload]\ncopy = "link"\n')
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "upload.copy" in str(err.value) and str(cfg) in str(err.value)
    cfg.write_text('schema_version = 2\n[upload]\ncopy = "file"\n')
    assert load_config(cfg).upload.copy == "file"
    assert load_config(tmp_path / "none.toml").upload.copy == "page"


def test_cli_upload_prints_the_page_by_default_and_the_file_when_set(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    cfg = tmp_path / "config.toml"
    cfg.write_text("schema_version = 2\n")
    shot = tmp_path / "shot.png"
    shot.write_bytes(png_bytes())
    assert main(["--config", str(cfg), "upload", "--server", server.api_url, "--no-progress", str(shot)]) == 0
    page = capsys.readouterr().out.strip()
    if server.kind == "seed":  # no pageUrl in its answer: the file, as before
        assert page.endswith(".png") and requests.get(page, timeout=30).content == shot.read_bytes()
        return
    assert page.startswith(server.url + "/s/") and "." not in page.rsplit("/", 1)[1]
    cfg.write_text('schema_version = 2\n[upload]\ncopy = "file"\n')
    assert main(["--config", str(cfg), "upload", "--server", server.api_url, "--no-progress", str(shot)]) == 0
    assert capsys.readouterr().out.strip().endswith(".png")


def _upload_video(server, tmp_path, journal, seconds=4):
    video = make_video(tmp_path / "clip.mp4", seconds=seconds)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal, copy="page")
    try:
        return engine.upload_file(video, {"fps": 30}).wait(60)
    finally:
        assert engine.stop(10)


def test_cli_delete_and_trim(server, journal, tmp_path, capsys, monkeypatch):
    link = _upload_video(server, tmp_path, journal)
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    if server.kind == "seed":
        assert main(["trim", link, "--start", "1", "--server", server.api_url]) == 1
        assert "this server cannot trim videos" in capsys.readouterr().err
        assert main(["delete", link, "--server", server.api_url]) == 1
        assert "this server cannot delete links" in capsys.readouterr().err
        assert requests.get(link, timeout=30).status_code == 200  # nothing happened to it
        return
    file_url = journal.history()[0].file_url
    assert main(["trim", link, "--start", "2.5", "--end", "3.5", "--server", server.api_url]) == 0
    out = capsys.readouterr().out
    assert "trimmed" in out and "to 2.500-3.5" in out, out  # frame-accurate (keyframes at whole seconds)
    assert "re-encoded up to the keyframe at 3.000 s, the rest copied" in out, out
    from snaplark_server.media import probe

    assert probe(io.BytesIO(requests.get(file_url, timeout=30).content)).duration == pytest.approx(1.0, abs=0.05)
    assert main(["trim", link, "--start", "3", "--end", "1", "--server", server.api_url]) == 2
    monkeypatch.setenv("SNAPLARK_TOKEN", server.login_again())  # still alice: a new token works the same
    assert main(["delete", file_url, "--server", server.api_url]) == 0  # the file's link names the same upload
    assert "410 Gone" in capsys.readouterr().out
    for url in (link, file_url):
        assert requests.get(url, timeout=30).status_code == 410
    assert main(["trim", link, "--start", "1", "--server", server.api_url]) == 1
    assert "deleted already" in capsys.readouterr().err
    assert main(["delete", "https://example.com/", "--server", server.api_url]) == 2  # no path: not a link


@pytest.mark.parametrize("server", ["reference"], indirect=True)  # a seed server has no users to tell apart
def test_cli_delete_of_someone_elses_link_is_not_found(server, journal, tmp_path, capsys, monkeypatch):
    link = _upload_video(server, tmp_path, journal, seconds=2)
    from snaplark_server.users import create_user

    bob = create_user(server._db(), "bob")
    monkeypatch.setenv("SNAPLARK_TOKEN", bob)
    assert main(["delete", link, "--server", server.api_url]) == 1
    assert "has no video or screenshot" in capsys.readouterr().err
    assert requests.get(link, timeout=30).status_code == 200
