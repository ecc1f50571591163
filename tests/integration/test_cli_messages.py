"""What the CLI says when something is wrong (issue 12, #12 and #13): one clear sentence naming the URL or file
and the likely fix; no urllib3 retry text, no "(404 None)", no silent defaults, no timestamped INFO lines."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tray.cli import main
from tray.upload.journal import UploadJournal, default_journal_path

from tests.integration.upload.helpers import write_random


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_one_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", "whatever-token-0123456789")
    port = closed_port()
    video = tmp_path / "clip.webm"
    write_random(video, 1000)
    rc = main(["upload", "--server", f"http://127.0.0.1:{port}/api/v1", "--no-progress", str(video)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err == (f"snaplark upload: cannot reach http://127.0.0.1:{port}: the connection was refused: nothing "
                   f"listens on port {port}; check server.url and that the server is running\n")


def test_wrong_api_path_names_the_url_and_the_fix(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    shot = tmp_path / "shot.png"
    from tests.integration.upload.test_engine_server import png_bytes

    shot.write_bytes(png_bytes())
    wrong = server.url + "/api/v2"
    rc = main(["upload", "--server", wrong, "--no-progress", str(shot)])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"{wrong}/screenshots/upload does not exist" in err
    assert f"is {wrong} the Snaplark API URL? It usually ends in /api/v1" in err
    assert "None)" not in err and "no such resource" != err.strip()


def test_no_none_in_error_texts():
    from tray.api.errors import NotSnaplarkServer, PermanentError

    assert str(PermanentError("x failed", status=404)) == "x failed (404)"
    assert str(PermanentError("x failed", status=422, code="bad_field")) == "x failed (422 bad_field)"
    assert "None" not in str(NotSnaplarkServer("is it the API URL?", status=404))


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tray", *args], capture_output=True, text=True, timeout=60,
                          env=env)


def test_a_missing_config_file_is_an_error_not_defaults(tmp_path):
    missing = tmp_path / "nonexistent.toml"
    out = run_cli("--config", str(missing), "status")
    assert out.returncode == 2
    assert out.stderr.startswith(f"snaplark: --config {missing}: no such settings file")
    out = run_cli("--config", str(missing), "config", "set", "capture.fps", "24")  # set creates it
    assert out.returncode == 0 and missing.exists()


def test_a_refused_config_set_says_the_file_is_unchanged(tmp_path):
    cfg = tmp_path / "config.toml"
    assert run_cli("--config", str(cfg), "config", "set", "capture.fps", "24").returncode == 0
    before = cfg.read_bytes()
    out = run_cli("--config", str(cfg), "config", "set", "capture.fps", "lots")
    assert out.returncode == 2
    assert "invalid setting in" not in out.stderr
    assert out.stderr.strip() == (f"snaplark: not changed: capture.fps = 'lots': expected an integer, got str "
                                  f"({cfg} is unchanged)")
    assert cfg.read_bytes() == before


def test_no_info_lines_on_the_terminal_without_v(tmp_path):
    """A successful upload to the embedded server prints the link and nothing else (before: timestamped INFO lines
    such as "embedded server listening at ..." on stderr); -v brings them back."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"[server]\nembedded_port = {closed_port()}\n")
    video = tmp_path / "clip.webm"
    write_random(video, 1000)
    env = {**__import__("os").environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    out = run_cli("--config", str(cfg), "upload", "--no-progress", str(video), env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("http://127.0.0.1:")
    assert "INFO" not in out.stderr and "embedded server listening" not in out.stderr
    out = run_cli("-v", "--config", str(cfg), "upload", "--no-progress", str(video), env=env)
    assert out.returncode == 0 and "INFO" in out.stderr
    with UploadJournal(default_journal_path()) as j:
        assert len(j.history()) == 2
