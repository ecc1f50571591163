"""``snaplark record --expires`` end to end (issue 15): the recording streams to the reference server while it is
recorded and its finalize carries ``expiresIn``; the CLI says when the link expires and the page shows it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_record_upload_expires(pattern_display, keyring_env, tmp_path):
    from tray.api.token_store import TokenStore
    from tests.server_kinds import make_server

    srv = make_server("reference", tmp_path / "srv").start()
    try:
        TokenStore().set(srv.api_url, srv.token)
        config = tmp_path / "config.toml"
        config.write_text(f'schema_version = 2\n[server]\nurl = "{srv.api_url}"\n[upload]\nexpires = "30d"\n')
        env = pattern_display.env(**{**keyring_env, "SNAPLARK_CONFIG": str(config),
                                     "SNAPLARK_DATA_DIR": str(tmp_path / "d"), "SNAPLARK_LOG_DIR": str(tmp_path / "log")})
        r = subprocess.run([sys.executable, "-m", "tray.cli", "record", "--region", "640,240,320,160", "--fps", "10",
                            "--duration", "2", "--countdown", "0", "--audio", "none", "--expires", "3d",
                            "--output", str(tmp_path / "r.webm")], env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        link = r.stdout.strip().splitlines()[-1]
        assert f"snaplark record: {link} expires at " in r.stderr  # --expires wins over upload.expires
        page = requests.get(link, timeout=10).text
        assert "2 days</time>" in page or "3 days</time>" in page
    finally:
        srv.stop()


def test_record_gif_upload_expires(pattern_display, keyring_env, tmp_path):
    """``--format gif``: the GIF made at the end is uploaded as an image; ``--expires`` reaches that upload too."""
    from tray.api.token_store import TokenStore
    from tests.server_kinds import make_server

    srv = make_server("reference", tmp_path / "srv").start()
    try:
        TokenStore().set(srv.api_url, srv.token)
        config = tmp_path / "config.toml"
        config.write_text(f'schema_version = 2\n[server]\nurl = "{srv.api_url}"\n')
        env = pattern_display.env(**{**keyring_env, "SNAPLARK_CONFIG": str(config),
                                     "SNAPLARK_DATA_DIR": str(tmp_path / "d"), "SNAPLARK_LOG_DIR": str(tmp_path / "log")})
        r = subprocess.run([sys.executable, "-m", "tray.cli", "record", "--region", "640,240,160,120", "--fps", "10",
                            "--duration", "1", "--countdown", "0", "--audio", "none", "--format", "gif",
                            "--expires", "12h", "--output", str(tmp_path / "r.gif")], env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        link = r.stdout.strip().splitlines()[-1]
        assert f"{link} expires at " in r.stderr
        page = requests.get(link, timeout=10).text
        assert "11 hours</time>" in page or "12 hours</time>" in page
    finally:
        srv.stop()
