"""``snaplark upload --expires`` and the ``upload.expires`` setting (issue 15) against the real reference server and
the strict seed-only server: the reference server takes ``expiresIn`` (a screenshot's form field, a video's
finalize field), answers ``expiresAt`` -- said on stderr -- and the links answer 410 once its (injected) clock has
passed it; the seed-only server ignores the field and the client says the link will not expire."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
import requests

from tray.cli import main

from tests.integration.server.test_share_pages import png_bytes
from tests.server_kinds import KINDS, server_each_kind  # noqa: F401 - the `server` fixture, of each kind

from .helpers import write_random

EXPIRING_KINDS = [k for k in KINDS if k != "seed"]  # a seed-only server keeps everything

DAY = 86_400


def files(tmp_path):
    shot = tmp_path / "shot.png"
    shot.write_bytes(png_bytes())
    video = tmp_path / "clip.webm"
    write_random(video, 300_000)
    return shot, video


def expiry_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "expires at" in line or "ignored the expiry" in line]


def stated_time(line: str) -> float:
    stamp = line.rsplit("expires at ", 1)[1].strip()
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def test_upload_expires_flag(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    shot, video = files(tmp_path)
    rc = main(["upload", "--server", server.api_url, "--no-progress", "--expires", "7d", str(shot), str(video)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    links = out.split()
    assert len(links) == 2
    lines = expiry_lines(err)
    assert len(lines) == 2, err
    if server.kind == "seed":
        assert all("ignored the expiry" in line and "seed-only" in line for line in lines), err
        assert all(requests.get(link, timeout=30).status_code == 200 for link in links)
        return
    now = server.clock()
    for line, link in zip(lines, links):
        assert link in line and stated_time(line) == pytest.approx(now + 7 * DAY, abs=120)
        assert 'class="expires">in <time' in requests.get(link, timeout=30).text
    server.clock_offset += 7 * DAY + 60  # the server's injected clock passes the expiry
    for link in links:
        page = requests.get(link, timeout=30)
        assert page.status_code == 410 and "This link has expired." in page.text


@pytest.mark.parametrize("server", EXPIRING_KINDS, indirect=True)  # (the seed-only server keeps everything:
def test_upload_expires_setting_and_never(server, tmp_path, capsys, monkeypatch):  # test_upload_expires_flag)
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    config = os.environ["SNAPLARK_CONFIG"]
    os.makedirs(os.path.dirname(config), exist_ok=True)
    with open(config, "w") as fh:
        fh.write('schema_version = 2\n[upload]\nexpires = "1h"\n')
    shot, _video = files(tmp_path)
    assert main(["upload", "--server", server.api_url, "--no-progress", str(shot)]) == 0
    out, err = capsys.readouterr()
    (line,) = expiry_lines(err)
    assert stated_time(line) == pytest.approx(server.clock() + 3600, abs=120)
    assert main(["upload", "--server", server.api_url, "--no-progress", "--expires", "never", str(shot)]) == 0
    out, err = capsys.readouterr()
    assert expiry_lines(err) == [] and 'class="expires"' not in requests.get(out.strip(), timeout=30).text


def test_bad_expires_is_a_usage_error(tmp_path, capsys):
    shot, _video = files(tmp_path)
    assert main(["upload", "--server", "http://127.0.0.1:9/api/v1", "--expires", "soon", str(shot)]) == 2
    assert "argument --expires: expected a duration like 7d, 12h" in capsys.readouterr().err


@pytest.mark.parametrize("server", EXPIRING_KINDS, indirect=True)  # (the seed-only server answers no expiresAt)
def test_the_engine_applies_upload_expires_unless_the_upload_chooses(server, tmp_path):
    """What the tray app does (tray.services.UploadStack passes upload.expires as the engine's ``expires_in``): every
    upload gets it -- screenshots, finished files and recordings streamed while recorded -- unless its metadata
    chooses (``{"expiresIn": None}`` = never, as ``--expires never``)."""
    from tray.upload.journal import UploadJournal

    from .helpers import TokenHolder, make_engine

    shot, video = files(tmp_path)
    with UploadJournal(tmp_path / "journal.sqlite3") as journal:
        engine = make_engine(server.api_url, TokenHolder(server.token), journal, expires_in=3600)
        try:
            ups = [engine.upload_screenshot(shot), engine.upload_file(video),
                   engine.upload_screenshot(shot, {"expiresIn": None}), engine.upload_file(video, {"expiresIn": 60})]
            (tmp_path / "live.webm").write_bytes(video.read_bytes())  # the recorder wrote it; the sink is told
            live = engine.start_recording_upload(tmp_path / "live.webm")
            live.durable(video.stat().st_size)
            live.finished(video.stat().st_size, 1.0)
            for up in ups + [live]:
                up.wait(60)
        finally:
            assert engine.stop(10)
    now = server.clock()
    stated = [None if up.expires_at is None else
              datetime.strptime(up.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
              for up in ups + [live]]
    assert stated[2] is None
    for got, want in zip(stated[:2] + stated[3:], (3600, 3600, 60, 3600)):
        assert got == pytest.approx(now + want, abs=120)
    with UploadJournal(tmp_path / "journal.sqlite3") as journal:  # kept for the History window ("expires in …")
        kept = {h.url: h.expires_at for h in journal.history()}
        catalog = {row[4]: row[-1] for row in journal.catalog_rows()}
    assert [kept[up.url] for up in ups + [live]] == stated
    assert [catalog[up.url] for up in ups + [live]] == stated
