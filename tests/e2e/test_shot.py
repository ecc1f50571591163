"""``snaplark shot`` end to end: real Xvfb, real keyring, real reference server, CLI in a subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
import requests
from PIL import Image

from tray.api.token_store import TokenStore
from tests.share_links import file_of


def _env(extra: dict) -> dict:
    env = dict(os.environ)
    env.update(extra)
    return env


def _config(tmp_path, url: str) -> str:
    cfg = tmp_path / "shot-config.toml"
    cfg.write_text(f'schema_version = 2\n[server]\nurl = "{url}"\n')
    return str(cfg)


def test_shot_screen_upload_prints_url_of_the_png(xvfb, keyring_env, server, tmp_path):
    TokenStore().set(server.api_url, server.token)
    out = tmp_path / "s.png"
    proc = subprocess.run([sys.executable, "-m", "tray", "--config", _config(tmp_path, server.api_url), "shot",
                           "--screen", "0", "--upload", "--output", str(out)],
                          env=_env(keyring_env), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    url = proc.stdout.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:")
    body = requests.get(file_of(url), timeout=10).content  # the share page's image (upload.copy = "page")
    assert body == out.read_bytes()
    image = Image.open(io.BytesIO(body))
    assert image.format == "PNG" and image.size == (1280, 720)
    assert server.token not in proc.stdout + proc.stderr


def test_shot_region_saves_exact_size_without_upload(xvfb, tmp_path):
    out = tmp_path / "r.png"
    proc = subprocess.run([sys.executable, "-m", "tray", "shot", "--region", "10,20,301,157", "--output", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    assert Image.open(out).size == (301, 157)


@pytest.mark.parametrize("argv,code,needle", [
    (["--region", "0,0,0,10"], 1, "zero"),
    (["--region", "5000,5000,10,10"], 1, "not inside the screen"),
    (["--region", "a,b"], 2, "region"),
    (["--screen", "7"], 1, "monitor"),
])
def test_shot_bad_targets_are_named(xvfb, tmp_path, argv, code, needle):
    proc = subprocess.run([sys.executable, "-m", "tray", "shot", *argv, "--output", str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr.lower()
    assert not (tmp_path / "x.png").exists()


def test_shot_upload_failure_keeps_the_png(xvfb, keyring_env, tmp_path):
    out = tmp_path / "kept.png"
    proc = subprocess.run([sys.executable, "-m", "tray", "--config", _config(tmp_path, "http://127.0.0.1:9/api/v1"),
                           "shot", "--screen", "0", "--upload", "--output", str(out), "--timeout", "3"],
                          env=_env(keyring_env), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert str(out) in proc.stderr
    assert Image.open(out).format == "PNG"


@pytest.mark.parametrize("kind", ["reference", "seed"])
def test_shot_upload_with_a_revoked_token_says_so_at_once(xvfb, keyring_env, tmp_path, kind):
    """Issue 12 #10: a refused token is told at once (how to log in), not after the whole --timeout as "still
    pending"; the screenshot is kept and stays queued."""
    import time

    from tests.server_kinds import make_server

    srv = make_server(kind, tmp_path / "srv").start()
    try:
        TokenStore().set(srv.api_url, "revoked-or-wrong-token")
        out = tmp_path / "s.png"
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "tray", "--config", _config(tmp_path, srv.api_url), "shot",
                               "--screen", "0", "--upload", "--timeout", "60", "--output", str(out)],
                              env=_env(keyring_env), capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
    finally:
        srv.stop()
    assert proc.returncode == 1
    assert "refused the token (401)" in proc.stderr and f"snaplark login --server {srv.api_url}" in proc.stderr
    assert "still pending" not in proc.stderr and out.exists()
    assert took < 45, f"took {took:.1f} s: it waited for the --timeout"
