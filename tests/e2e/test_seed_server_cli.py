"""The real ``snaplark`` CLI, in subprocesses, against the strict seed-only server (issue 11): login, uploads of a
≥ 15 MiB WebM and a PNG, and a 20 s recording all end with the server's copy sha256-identical to the local file,
with a real gnome-keyring holding the token. Also: a refused token ends the CLI's wait at once, the plain-http
warning, and the modes of everything the client keeps (0700 directories, 0600 files)."""

from __future__ import annotations

import hashlib
import io
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.integration.keyring_session import private_keyring_env  # noqa: F401 - fixture
from tests.integration.upload.helpers import MIB, write_random
from tests.server_kinds import SeedKind

SEED_ENDPOINTS = {"/api/v1/screenshots/upload", "/api/v1/videos/init", "/api/v1/videos/chunk",
                  "/api/v1/videos/finalize"}


@pytest.fixture
def seed(tmp_path):
    srv = SeedKind(tmp_path / "seed-data").start()
    yield srv
    srv.stop()


@pytest.fixture
def cli_env(private_keyring_env, tmp_path):
    env = dict(private_keyring_env)
    env.update(SNAPLARK_CONFIG=str(tmp_path / "cfg" / "config.toml"), SNAPLARK_DATA_DIR=str(tmp_path / "data"),
               SNAPLARK_LOG_DIR=str(tmp_path / "log"))
    env.pop("DISPLAY", None)
    return env


def snaplark(env, *args, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tray", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=timeout, start_new_session=True)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((300, 200), 60).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_login_upload_webm_and_png_against_the_seed_only_server(seed, cli_env, tmp_path):
    out = snaplark(cli_env, "login", "--server", seed.api_url, "--token-stdin", stdin=seed.token)
    assert out.returncode == 0, out.stderr
    assert "cannot check tokens before use; it will be checked on the first upload" in out.stdout
    assert seed.token not in out.stdout + out.stderr

    video = tmp_path / "clip.webm"
    video_sha = write_random(video, 15 * MIB + 4321, seed=3)
    shot = tmp_path / "shot.png"
    shot.write_bytes(png_bytes())
    out = snaplark(cli_env, "upload", "--no-progress", "--verify", str(video), str(shot))
    assert out.returncode == 0, out.stderr
    video_url, shot_url = out.stdout.split()
    assert sha(requests.get(video_url, timeout=30).content) == video_sha
    assert sha(requests.get(shot_url, timeout=30).content) == sha(shot.read_bytes())
    assert seed.held_parts(video_url.split("/")[-2]) == ("finalized", [(0, 5 * MIB), (1, 5 * MIB),
                                                                       (2, 5 * MIB), (3, 4321)])
    # only seed endpoints were used for the work; extensions were asked for once and answered 404
    answered = {(path.split("?")[0], status) for _m, path, status in seed.requests}
    assert {p for p, status in answered if status == 200 and not p.startswith("/cdn/")} == SEED_ENDPOINTS
    assert {p for p, status in answered if status != 200} <= {"/api/v1/health", "/api/v1/me"}

    # everything the client keeps is the user's alone
    data, log, cfg = tmp_path / "data", tmp_path / "log", tmp_path / "cfg"
    for d in (data, log, cfg):
        assert mode(d) == 0o700, d
    kept = [p for root in (data, log, cfg) for p in root.rglob("*")]
    assert any(p.name == "uploads.sqlite3" for p in kept) and any(p.suffix == ".log" for p in kept)
    assert any(p.name == "config.toml" for p in kept)
    for p in kept:
        assert mode(p) == (0o700 if p.is_dir() else 0o600), f"{p} is {oct(mode(p))}"


def test_a_refused_token_ends_the_wait_at_once_and_keeps_the_upload(seed, cli_env, tmp_path):
    out = snaplark(cli_env, "login", "--server", seed.api_url, "--token-stdin", stdin="not-the-token")
    assert out.returncode == 0, out.stderr  # a seed server cannot check it now: stored, with the note
    video = tmp_path / "clip.webm"
    video_sha = write_random(video, 6 * MIB, seed=4)
    out = snaplark(cli_env, "upload", "--no-progress", str(video), timeout=60)
    assert out.returncode == 1
    assert "refused the token (401)" in out.stderr and "snaplark login" in out.stderr and "--resume" in out.stderr

    out = snaplark(cli_env, "login", "--server", seed.api_url, "--token-stdin", stdin=seed.token)
    assert out.returncode == 0, out.stderr
    out = snaplark(cli_env, "upload", "--no-progress", "--resume")
    assert out.returncode == 0, out.stderr
    (url,) = out.stdout.split()
    assert sha(requests.get(url, timeout=30).content) == video_sha


def test_plain_http_to_another_host_warns_unless_allowed(cli_env):
    url = "http://snaplark.invalid/api/v1"  # .invalid never resolves: the login then fails fast, after the warning
    out = snaplark(cli_env, "login", "--server", url, "--token-stdin", stdin="t")
    assert out.returncode == 1
    assert "plain http" in out.stderr and "unencrypted" in out.stderr and "--allow-http" in out.stderr
    assert "does not resolve" in out.stderr and "HTTPConnectionPool" not in out.stderr
    out = snaplark(cli_env, "login", "--server", url, "--token-stdin", "--allow-http", stdin="t")
    assert out.returncode == 1 and "plain http" not in out.stderr


def test_loopback_http_does_not_warn(seed, cli_env):
    out = snaplark(cli_env, "login", "--server", seed.api_url, "--token-stdin", stdin=seed.token)
    assert out.returncode == 0 and "plain http" not in out.stderr


def test_record_20_s_against_the_seed_only_server(seed, cli_env, tmp_path):
    from tests.e2e.capture.conftest import SCREEN_H, SCREEN_W, start_pattern
    from tests.procutil import need_tool, start_xvfb, stop_process

    need_tool("Xvfb")
    xvfb, display = start_xvfb(SCREEN_W, SCREEN_H)
    pattern = None
    try:
        pattern = start_pattern(display, SCREEN_W, SCREEN_H, noise=True)
        out = snaplark(cli_env, "login", "--server", seed.api_url, "--token-stdin", stdin=seed.token)
        assert out.returncode == 0, out.stderr
        local = tmp_path / "rec.webm"
        out = snaplark({**cli_env, "DISPLAY": display}, "record", "--region", f"0,0,{SCREEN_W},{SCREEN_H}",
                       "--duration", "20", "--output", str(local), timeout=180)
        assert out.returncode == 0, out.stderr
        url = out.stdout.split()[-1]
    finally:
        if pattern is not None:
            stop_process(pattern)
        stop_process(xvfb)
    served = requests.get(url, timeout=30).content
    assert sha(served) == sha(local.read_bytes())
    import av

    with av.open(io.BytesIO(served)) as container:
        duration = float(container.duration or 0) / 1e6
    assert 18.0 <= duration <= 22.0, duration
