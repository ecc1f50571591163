"""``snaplark record --expires`` end to end (issue 15): the recording streams to the reference server while it is
recorded and its finalize carries ``expiresIn`` (``--expires`` wins over ``upload.expires``); with ``--format gif``
the GIF made at the end is uploaded as an image with it. The CLI says when the link expires and the page shows it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

pytestmark = pytest.mark.e2e


def record(pattern_display, keyring_env, tmp_path, settings: str, *argv: str) -> tuple[str, str]:
    """Run ``snaplark record ARGV`` against a fresh reference server; (the printed link, its page's HTML)."""
    from tray.api.token_store import TokenStore
    from tests.server_kinds import make_server

    srv = make_server("reference", tmp_path / "srv").start()
    try:
        TokenStore().set(srv.api_url, srv.token)
        config = tmp_path / "config.toml"
        config.write_text(f'schema_version = 2\n[server]\nurl = "{srv.api_url}"\n{settings}')
        env = pattern_display.env(**{**keyring_env, "SNAPLARK_CONFIG": str(config),
                                     "SNAPLARK_DATA_DIR": str(tmp_path / "d"), "SNAPLARK_LOG_DIR": str(tmp_path / "log")})
        r = subprocess.run([sys.executable, "-m", "tray.cli", "record", "--fps", "10", "--countdown", "0", "--audio",
                            "none", *argv], env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        link = r.stdout.strip().splitlines()[-1]
        assert f"snaplark record: {link} expires at " in r.stderr, r.stderr
        assert "snaplark shot" not in r.stderr, r.stderr  # the GIF is uploaded by shot's code, but record said it
        return link, requests.get(link, timeout=10).text
    finally:
        srv.stop()


def test_record_upload_expires(pattern_display, keyring_env, tmp_path):
    _link, page = record(pattern_display, keyring_env, tmp_path, '[upload]\nexpires = "30d"\n', "--region",
                         "640,240,320,160", "--duration", "2", "--expires", "3d", "--output", str(tmp_path / "r.webm"))
    assert "2 days</time>" in page or "3 days</time>" in page  # --expires wins over upload.expires


def test_record_gif_upload_expires(pattern_display, keyring_env, tmp_path):
    _link, page = record(pattern_display, keyring_env, tmp_path, "", "--region", "640,240,160,120", "--duration",
                         "1", "--format", "gif", "--expires", "12h", "--output", str(tmp_path / "r.gif"))
    assert "11 hours</time>" in page or "12 hours</time>" in page
