"""`snaplark upload | status | history` against the real server (in-process CLI, plus one real subprocess)."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading

import pytest

from tray.cli import main
from tray.humanize import human_bytes
from tray.upload.journal import PartRecord, UploadJournal, default_journal_path

from .helpers import MIB, download_sha, sha256_file, write_random
from .test_engine_server import png_bytes


@pytest.fixture
def cli_env(server, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    return server


def journal_sessions():
    with UploadJournal(default_journal_path()) as j:
        return j.sessions()


def test_upload_video_and_screenshot_print_urls_then_history(cli_env, tmp_path, capsys):
    video = tmp_path / "clip.webm"
    sha = write_random(video, 7 * MIB)
    shot = tmp_path / "shot.png"
    shot.write_bytes(png_bytes())
    rc = main(["upload", "--server", cli_env.api_url, "--no-progress", "--verify", str(video), str(shot)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    urls = out.split()
    assert len(urls) == 2
    assert download_sha(cli_env.url, urls[0]) == sha
    assert download_sha(cli_env.url, urls[1]) == sha256_file(shot)
    assert cli_env.token not in out + err

    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert urls[0] in out and urls[1] in out and "screenshot" in out
    assert main(["status"]) == 0
    assert "No unfinished uploads" in capsys.readouterr().out
    # completed uploads read as complete, with sizes people read (issue 12, #13: was "0/44772 bytes", "0.0 MiB")
    assert main(["status", "--all"]) == 0
    out = capsys.readouterr().out
    assert "complete, 7.3 MB" in out and f"complete, {human_bytes(shot.stat().st_size)}" in out
    assert " bytes" not in out
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "7.3 MB" in out and human_bytes(shot.stat().st_size) in out and "MiB" not in out


def _write(path, data):
    path.write_bytes(data)
    return path


def _unreadable(tmp_path):
    path = tmp_path / "secret.webm"
    if os.geteuid() == 0:  # root reads any mode; /proc/self/mem fails every read at offset 0 with EIO
        path.symlink_to("/proc/self/mem")
    else:
        path.write_bytes(b"x" * 100)
        path.chmod(0)
    return path


@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.webm", "no such file"),
    (lambda d: d, "is a directory"),
    (lambda d: _write(d / "empty.webm", b""), "empty"),
    (_unreadable, "read"),
    (lambda d: _write(d / "notes.txt", b"hi"), "unsupported file type"),
])
def test_bad_input_is_a_clear_error_and_journal_stays_intact(cli_env, tmp_path, capsys, make, message):
    target = make(tmp_path)
    rc = main(["upload", "--server", cli_env.api_url, "--no-progress", str(target)])
    err = capsys.readouterr().err
    assert rc == 1
    assert message in err and str(target) in err
    assert journal_sessions() == []


class _NotSnaplark(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body>hello</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *a):
        pass


def test_a_url_that_is_not_a_snaplark_server(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", "whatever-token-0123456789")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotSnaplark)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        video = tmp_path / "clip.webm"
        write_random(video, 1000)
        rc = main(["upload", "--server", f"http://127.0.0.1:{httpd.server_port}/", "--no-progress", str(video)])
    finally:
        httpd.shutdown()
        t.join(5)
    err = capsys.readouterr().err
    assert rc == 1 and "not a Snaplark server" in err
    assert journal_sessions() == []


def test_unreachable_server(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", "whatever-token-0123456789")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    video = tmp_path / "clip.webm"
    write_random(video, 1000)
    rc = main(["upload", "--server", f"http://127.0.0.1:{port}/api/v1", "--no-progress", str(video)])
    assert rc == 1 and "cannot reach" in capsys.readouterr().err
    assert journal_sessions() == []


def test_wrong_token(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", "wrong-token-0123456789abcdef")
    video = tmp_path / "clip.webm"
    write_random(video, 1000)
    rc = main(["upload", "--server", server.api_url, "--no-progress", str(video)])
    assert rc == 1 and "snaplark login" in capsys.readouterr().err


def test_journal_disk_full_is_a_clear_error(cli_env, tmp_path, capsys):
    from tray.commands import upload as upload_cmd
    from tray.services import ServerConnection

    video = tmp_path / "clip.webm"
    write_random(video, 1000)
    journal = UploadJournal(tmp_path / "j.sqlite3").open()
    sid = journal.create_session("video", tmp_path / "older.webm")
    journal.add_parts(sid, [PartRecord(0, 0, 10)])
    pages = journal.connection.execute("PRAGMA page_count").fetchone()[0]
    journal.connection.execute(f"PRAGMA max_page_count = {pages}")
    # fill the last free pages so the next insert cannot fit
    try:
        for i in range(1, 10_000):
            journal.add_parts(sid, [PartRecord(i, i * 10, 10, "f" * 64)])
    except Exception:
        pass
    before = journal.sessions()
    args = upload_cmd_args(cli_env, video)
    conn = ServerConnection(cli_env.api_url, lambda: cli_env.token)
    rc = upload_cmd.run(args, connection=conn, journal=journal)
    err = capsys.readouterr().err
    assert rc == 1 and "disk is full" in err
    after = journal.sessions()
    # what was there is untouched; whatever the full disk allowed is whole rows, never a completed upload
    assert [(s.id, len(s.parts), s.state) for s in after[:len(before)]] == \
        [(s.id, len(s.parts), s.state) for s in before]
    assert all(s.state != "completed" and not s.parts for s in after[len(before):])
    assert journal.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    journal.close()


def upload_cmd_args(server, *files, **kw):
    import argparse

    ns = argparse.Namespace(files=list(files), server=server.api_url, resume=False, retry=[], no_progress=True, verify=False,
                            timeout=30.0, config=None, verbose=False)
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


def test_status_lists_unfinished_sessions_and_parts(tmp_path, capsys):
    with UploadJournal(default_journal_path()) as j:
        sid = j.create_session("video", tmp_path / "rec.webm")
        j.update_session(sid, server_session_id="sess-1", state="paused_offline", durable_bytes=11 * MIB)
        j.add_parts(sid, [PartRecord(0, 0, 5 * MIB), PartRecord(1, 5 * MIB, 5 * MIB, "ab" * 32)])
        j.mark_acked(sid, 1)
    assert main(["status", "--parts"]) == 0
    out = capsys.readouterr().out
    assert f"#{sid}" in out and "paused_offline" in out and "sess-1" in out and "parts 1/2 acked" in out
    assert "part    1" in out and "acked" in out and "pending" in out


def test_real_entry_point_with_the_embedded_server(tmp_path):
    """Acceptance 5: `snaplark upload some.webm` on a fresh install (no server configured) prints a URL whose
    download is sha256-identical (checked by --verify inside the process, while its embedded server runs)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "fresh" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text(f"schema_version = 2\n[server]\nurl = \"\"\nembedded_port = {port}\n")
    video = tmp_path / "some.webm"
    write_random(video, 6 * MIB + 1)
    env = {**os.environ, "SNAPLARK_CONFIG": str(cfg), "SNAPLARK_DATA_DIR": str(tmp_path / "fresh-data"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env.pop("SNAPLARK_TOKEN", None)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = subprocess.run([sys.executable, "-m", "tray", "upload", "--verify", "--no-progress", str(video)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    url = proc.stdout.strip().splitlines()[-1]
    assert url.startswith(f"http://127.0.0.1:{port}/")


def test_relative_paths_are_journaled_absolute(cli_env, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_random(tmp_path / "rel.webm", 1000)
    assert main(["upload", "--server", cli_env.api_url, "--no-progress", "rel.webm"]) == 0
    (rec,) = journal_sessions()
    assert rec.local_path == str(tmp_path / "rel.webm")


def test_retry_a_failed_upload(cli_env, tmp_path, capsys):
    import requests

    video = tmp_path / "clip.webm"
    sha = write_random(video, 1000)
    requests.post(cli_env.url + "/_faults", json={"route": "/api/v1/videos/init", "count": 1, "status": 400},
                  timeout=5).raise_for_status()
    assert main(["upload", "--server", cli_env.api_url, "--no-progress", str(video)]) == 1
    assert "kept" in capsys.readouterr().err
    (rec,) = journal_sessions()
    assert rec.state == "failed" and video.exists()
    assert main(["upload", "--server", cli_env.api_url, "--no-progress", "--retry", "999"]) == 1
    assert "no failed upload" in capsys.readouterr().err
    assert main(["upload", "--server", cli_env.api_url, "--no-progress", "--retry", str(rec.id)]) == 0
    url = capsys.readouterr().out.strip()
    assert download_sha(cli_env.url, url) == sha
    (rec,) = journal_sessions()
    assert rec.state == "completed"
