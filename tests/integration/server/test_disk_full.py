"""Disk full (issue 16, acceptance 4): a free-space reserve (``min_free_bytes``) answers 503 storage_unavailable +
Retry-After on every writing endpoint before the disk is full -- never 500 -- and session directories without an
open session are removed at start and by the cleanup loop. Free space is faked at the OS edge (an injected
function), and measured for real on a small tmpfs."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from snaplark_server.config import MiB, ServerConfig
from snaplark_server.runner import ServerThread
from snaplark_server.users import create_user

from .conftest import SEED_INIT, finalize, init_session, make_parts, send_chunk
from .test_screenshots import png_bytes, upload


class FakeDisk:
    """Free bytes as the server sees them; the test sets ``free``."""

    def __init__(self, free: int) -> None:
        self.free = free
        self.asked: list[Path] = []

    def __call__(self, path: Path) -> int:
        self.asked.append(Path(path))
        return self.free


def assert_503(r: requests.Response) -> None:
    assert r.status_code == 503, (r.status_code, r.text)
    assert r.json()["error"] == "storage_unavailable" and int(r.headers["Retry-After"]) > 0


def session_dirs(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "sessions").iterdir())


def test_reserve_refuses_every_write_with_503_before_the_disk_is_full(make_server):
    disk = FakeDisk(1 << 40)
    s = make_server("local", min_free_bytes=10 * MiB, free_space=disk)
    sid = init_session(s)
    (p0,) = make_parts([300_000])
    assert send_chunk(s, sid, 0, p0).status_code == 200
    assert disk.asked and all(p == s.data_dir for p in disk.asked)

    disk.free = 10 * MiB + 100_000  # the reserve plus less than a part
    r = send_chunk(s, sid, 1, p0)
    assert_503(r)  # its declared size would eat into the reserve: refused before a byte is written
    assert list((s.data_dir / "spool").iterdir()) == []
    assert upload(s, png_bytes()).status_code == 200  # a small image still fits above the reserve

    disk.free = 10 * MiB - 1  # inside the reserve: nothing that writes is taken
    rows = s.db.query_one("SELECT COUNT(*) FROM sessions")[0]
    assert_503(requests.post(f"{s.api_url}/videos/init", json=SEED_INIT, headers=s.headers(), timeout=30))
    assert_503(send_chunk(s, sid, 1, b"x" * 10))
    assert_503(upload(s, png_bytes()))
    assert_503(finalize(s, sid, 1))
    assert s.db.query_one("SELECT COUNT(*) FROM sessions")[0] == rows and session_dirs(s.data_dir) == [sid]
    # reading goes on
    status = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10)
    assert status.status_code == 200 and [p["chunkIndex"] for p in status.json()["parts"]] == [0]
    assert requests.get(f"{s.url}/health", timeout=10).status_code == 200

    disk.free = 1 << 40  # space again: the client's retry goes through
    r = finalize(s, sid, 1)
    assert r.status_code == 200, r.text
    assert requests.get(r.json()["url"], timeout=10).content == p0


def test_reserve_default_and_bad_value(tmp_path):
    from snaplark_server.config import ConfigError

    assert ServerConfig(data_dir=tmp_path).min_free_bytes == 100 * MiB
    with pytest.raises(ConfigError, match="min_free_bytes"):
        ServerConfig(data_dir=tmp_path, min_free_bytes=-1)


def test_orphan_session_directories_are_removed_at_start_and_by_the_cleanup_loop(make_server, tmp_path):
    s = make_server("local")
    kept = init_session(s)
    done = init_session(s)
    assert send_chunk(s, done, 0, b"\x1a\x45\xdf\xa3" + b"v" * 100).status_code == 200
    assert finalize(s, done, 1).status_code == 200
    config = s.thread.config
    s.thread.stop()
    sessions = s.data_dir / "sessions"
    # what a crash leaves: a directory whose row was never committed, and a finalized session's parts
    (sessions / "crashed-before-commit").mkdir()
    (sessions / "crashed-before-commit" / "00000.part").write_bytes(b"x" * 1000)
    (sessions / done).mkdir()
    (sessions / done / "00000.part").write_bytes(b"y")
    config.cleanup_interval = 0.2
    thread = ServerThread(config).start()
    try:
        assert session_dirs(s.data_dir) == [kept]  # removed at start; the open session kept
        orphan = sessions / "appeared-while-running"
        orphan.mkdir()
        deadline = time.monotonic() + 10
        while orphan.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not orphan.exists() and session_dirs(s.data_dir) == [kept]
        s.thread = thread
        assert send_chunk(s, kept, 0, b"still open").status_code == 200
    finally:
        thread.stop()


# --- a real full file system ----------------------------------------------------------------------------------


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str):
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def fill(path: Path) -> None:
    """Write until the file system says ENOSPC (unbuffered: to the last byte it takes)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


@pytest.mark.parametrize("measured", [True, False], ids=["reserve", "blind"])
def test_a_really_full_disk_answers_503_never_500_and_leaves_no_orphans(tmp_path, measured):
    """``reserve``: the free-space check sees the full disk; ``blind``: it is told there is room, so the writes
    really fail (ENOSPC while spooling, SQLite's "database or disk is full") and must still be 503."""
    blind = None if measured else (lambda path: 1 << 40)
    with small_tmpfs(tmp_path / "mnt", "4m") as mnt:
        data = mnt / "data"
        config = ServerConfig(data_dir=data, port=0, cleanup_interval=3600.0, min_free_bytes=0)
        thread = ServerThread(config, free_space=blind).start()
        try:
            token = create_user(thread.app.state.db, "alice")
            headers = {"Authorization": f"Bearer {token}"}
            sid = requests.post(f"{thread.api_url}/videos/init", json=SEED_INIT, headers=headers,
                                timeout=30).json()["sessionId"]
            fill(mnt / "filler")
            answers = {
                "init": requests.post(f"{thread.api_url}/videos/init", json=SEED_INIT, headers=headers, timeout=30),
                "chunk": requests.post(f"{thread.api_url}/videos/chunk", headers=headers, timeout=30,
                                       data={"sessionId": sid, "chunkIndex": "0"},
                                       files={"chunk": ("chunk_0.webm", os.urandom(200_000), "video/webm")}),
                "screenshot": requests.post(f"{thread.api_url}/screenshots/upload", headers=headers, timeout=30,
                                            files={"file": ("s.png", png_bytes(), "image/png")}),
            }
            for name, r in answers.items():
                assert r.status_code == 503, (name, r.status_code, r.text)
                assert r.json()["error"] == "storage_unavailable" and r.headers["Retry-After"], name
            assert requests.get(f"{thread.url}/health", timeout=10).status_code == 200
            (mnt / "filler").unlink()
            # the server recovers by itself once there is room
            r = requests.post(f"{thread.api_url}/videos/chunk", headers=headers, timeout=30,
                              data={"sessionId": sid, "chunkIndex": "0"},
                              files={"chunk": ("chunk_0.webm", b"\x1a\x45\xdf\xa3" + b"z" * 1000, "video/webm")})
            assert r.status_code == 200, r.text
        finally:
            thread.stop()
        thread = ServerThread(config, free_space=blind).start()  # after a restart: every session directory has an open session
        try:
            rows = {r["id"] for r in thread.app.state.db.query("SELECT id FROM sessions WHERE state = 'open'")}
            assert set(session_dirs(data)) <= rows and sid in rows
        finally:
            thread.stop()
