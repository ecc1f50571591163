"""The server's data is its user's alone (issue 16): data dir 0700, database and stored objects 0600, whatever the
umask of the process that runs it -- in-process (`ServerThread`, as the tray app embeds it) and as
``snaplark-server serve``. Older, looser data dirs are tightened on start."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from PIL import Image

from snaplark_server.config import ServerConfig
from snaplark_server.db import DB_FILENAME, Database
from snaplark_server.runner import ServerThread
from snaplark_server.users import create_user

from .conftest import SEED_INIT, make_parts, sha, start_cli_server, stop_process

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """The common default umask 022 for the test (a server must not rely on the umask it inherits)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _upload(url: str, token: str) -> None:
    """A screenshot, a linked video (no whole-file sha256) and an assembled one (with it)."""
    headers = {"Authorization": f"Bearer {token}"}
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buf, "PNG")
    r = requests.post(url + "/api/v1/screenshots/upload", headers=headers, timeout=30,
                      files={"file": ("screenshot-1.png", buf.getvalue(), "image/png")})
    assert r.status_code == 200, r.text
    for whole_sha in (False, True):
        parts = make_parts([2048, 100], seed=int(whole_sha))
        sid = requests.post(url + "/api/v1/videos/init", json=SEED_INIT, headers=headers, timeout=30).json()["sessionId"]
        for i, data in enumerate(parts):
            r = requests.post(url + "/api/v1/videos/chunk", headers=headers, timeout=30,
                              data={"sessionId": sid, "chunkIndex": str(i)},
                              files={"chunk": (f"chunk_{i}.webm", data, "video/webm")})
            assert r.status_code == 200, r.text
        body = {"sessionId": sid, "totalChunks": 2, "uploadedChunks": [0, 1], "duration": 1.0, "metadata": {}}
        if whole_sha:
            body["sha256"] = sha(b"".join(parts))
        r = requests.post(url + "/api/v1/videos/finalize", json=body, headers=headers, timeout=30)
        assert r.status_code == 200, r.text


def _assert_private(data_dir: Path) -> None:
    assert mode(data_dir) == 0o700, f"data dir is {mode(data_dir):o}"
    db = data_dir / DB_FILENAME
    assert mode(db) == 0o600, f"database is {mode(db):o}"
    objects = [p for p in (data_dir / "objects").rglob("*") if p.is_file()]
    assert any(p.parent.name == "screenshots" for p in objects) and any(p.suffix == ".webm" for p in objects), objects
    loose = [f"{p.relative_to(data_dir)} {mode(p):o}" for p in [db, *data_dir.rglob("*")]
             if mode(p) != (0o700 if p.is_dir() else 0o600)]
    assert not loose, f"readable by others: {loose}"


def test_in_process_server_creates_private_files_under_umask_022(tmp_path, loose_umask):
    data_dir = tmp_path / "srv" / "data"  # does not exist yet: the server creates it
    with ServerThread(ServerConfig(data_dir=data_dir, port=0, min_part_size=1024)) as srv:
        token = create_user(srv.app.state.db, "alice")
        _upload(srv.url, token)
        _assert_private(data_dir)


def test_cli_server_creates_private_files_under_umask_022(tmp_path):
    data_dir = tmp_path / "cli" / "data"
    out = subprocess.run([sys.executable, "-m", "snaplark_server", "--data-dir", str(data_dir), "user", "add", "bob"],
                         capture_output=True, text=True, timeout=60, check=True, preexec_fn=lambda: os.umask(0o022))
    token = out.stdout.strip().splitlines()[-1]
    assert mode(data_dir) == 0o700 and mode(data_dir / DB_FILENAME) == 0o600
    cfg = tmp_path / "server.toml"
    cfg.write_text("min_part_size = 1024\n")
    old = os.umask(0o022)  # inherited by the server process
    try:
        proc, url = start_cli_server(data_dir, global_args=("--config", str(cfg)))
    finally:
        os.umask(old)
    try:
        _upload(url, token)
    finally:
        stop_process(proc)
    _assert_private(data_dir)


def test_older_loose_data_dir_and_database_are_tightened(tmp_path, loose_umask):
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    Database.in_data_dir(data_dir).close()
    os.chmod(data_dir / DB_FILENAME, 0o644)
    os.chmod(data_dir, 0o755)
    with ServerThread(ServerConfig(data_dir=data_dir, port=0, min_part_size=1024)):
        assert mode(data_dir) == 0o700
        assert mode(data_dir / DB_FILENAME) == 0o600
        for side in ("-wal", "-shm"):
            p = data_dir / (DB_FILENAME + side)
            if p.exists():
                assert mode(p) == 0o600, f"{p.name} is {mode(p):o}"
