"""Chaos matrix (issue 5, acceptance 1; issue 11): every fault × {finished file, file growing while uploading} ×
{reference server, strict seed-only server}, ≥ 30 MiB of random bytes, through the fault proxy. Each run must end
with the server's file sha256-identical to the local one, every part present exactly once, and the journal marked
completed. Against the seed-only server the client has no ``/health``, ``/me``, ``/status`` and no sha256 echo.

Backoff runs at 1/100 speed (``Sleeper(scale=0.01)``); stall tests use a 1.5 s read timeout.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tray.api.client import ApiClient
from tray.upload.backoff import Sleeper
from tray.upload.engine import UploadEngine
from tray.upload.events import StateChanged
from tray.upload.state import UploadState as S

from tests.integration.upload.helpers import MIB, GrowingFile, download_sha, sha256_file, write_random

SIZE = 30 * MIB + 12_345
REPO = Path(__file__).resolve().parents[2]
VARIANTS = ["finished", "growing"]
SCALE = 0.01  # backoff and probe delays run at 1/100 speed


class Tokens:
    def __init__(self, token):
        self.token = token

    def __call__(self):
        return self.token


def make_engine(proxy, tokens, journal, events, *, read_timeout=30.0):
    def factory():
        return ApiClient(proxy.api_url, tokens, connect_timeout=2.0, min_read_timeout=read_timeout,
                         min_throughput=1 << 30)

    # whole-file sha256 on: the chaos runs also prove the optional finalize check passes after every fault (a
    # seed-only server ignores the field)
    return UploadEngine(factory, journal, sleeper=Sleeper(scale=SCALE), rng=random.Random(5),
                        on_event=events.append, server_url=proxy.api_url, verify_whole_file=True)


def wait_for(pred, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def acked(up):
    return up.progress().parts_uploaded


def states(events):
    return [e.new for e in events if isinstance(e, StateChanged)]


def verify(server, journal, upload_id, path, url):
    """Server copy identical, every part exactly once, journal completed."""
    local = sha256_file(path)
    assert server.file_sha256(url) == local
    rec = journal.get_session(upload_id)
    assert rec.state == "completed" and rec.url == url
    parts = rec.parts
    assert [p.index for p in parts] == list(range(len(parts)))
    assert all(p.acked for p in parts)
    assert sum(p.length for p in parts) == path.stat().st_size == rec.total_size
    assert all(p.offset == (parts[i - 1].end if i else 0) for i, p in enumerate(parts))
    state, held = server.held_parts(rec.server_session_id)
    assert state == "finalized"
    assert held == [(p.index, p.length) for p in parts]  # none lost, none duplicated
    assert journal.history()[0].url == url


def run_row(chaos_server, proxy, journal, tmp_path, variant, inject, *, read_timeout=30.0):
    tokens = Tokens(chaos_server.token)
    events: list = []
    engine = make_engine(proxy, tokens, journal, events, read_timeout=read_timeout)
    path = tmp_path / "chaos.webm"
    writer = None
    try:
        if variant == "finished":
            write_random(path, SIZE, seed=11)
            up = engine.upload_file(path)
        else:
            up = engine.start_recording_upload(path, {"resolution": "1280x720"})
            # the writer pauses at 16 MiB (parts 1 and 2 cut) until the fault is injected: the fault always lands
            # while the recording is still growing, however slow the machine is
            writer = GrowingFile(path, SIZE, step=512 * 1024, pause=0.01, seed=12, hold_at=16 * MIB,
                                 hold_timeout=120).start(up)
        at_fault = {}

        def trigger(parts: int) -> None:
            """Wait until ``parts`` parts are acked; note how much of a growing file existed then."""
            wait_for(lambda: acked(up) >= parts, what=f"{parts} parts acked")
            at_fault["written"] = writer.written if writer is not None else SIZE
            if writer is not None:
                writer.release()

        inject(up=up, engine=engine, tokens=tokens, events=events, trigger=trigger)
        if writer is not None:
            writer.join(120)
            # the fault hit while the recording was still growing
            assert at_fault["written"] < SIZE, at_fault
        url = up.wait(180)
    finally:
        assert engine.stop(15)
    verify(chaos_server, journal, up.id, path, url)
    assert S.FAILED not in states(events)
    return up, events


@pytest.mark.parametrize("variant", VARIANTS)
def test_5xx_bursts(chaos_server, proxy, journal, tmp_path, variant):
    chaos_server.fault(route="/api/v1/videos/init", count=2, status=503)

    def inject(up, trigger, **_):
        trigger(1)
        chaos_server.fault(route="/api/v1/videos/chunk", count=4, status=503)
        chaos_server.fault(route="/api/v1/videos/chunk", count=1, status=429, retry_after=1)
        chaos_server.fault(route="/api/v1/videos/chunk", count=2, status=500)
        chaos_server.fault(route="/api/v1/videos/finalize", count=2, status=502)

    run_row(chaos_server, proxy, journal, tmp_path, variant, inject)
    assert chaos_server.faults_pending() == []  # every injected 5xx was met and survived


@pytest.mark.parametrize("variant", VARIANTS)
def test_connection_reset_mid_part(chaos_server, proxy, journal, tmp_path, variant):
    def inject(up, trigger, **_):
        trigger(1)
        proxy.set_mode("reset", nbytes=int(2.5 * MIB), times=3)

    run_row(chaos_server, proxy, journal, tmp_path, variant, inject)
    assert proxy.stats["resets"] == 3


@pytest.mark.parametrize("variant", VARIANTS)
def test_server_stall_read_timeout(chaos_server, proxy, journal, tmp_path, variant):
    def inject(up, trigger, **_):
        trigger(1)
        proxy.set_mode("stall")
        wait_for(lambda: up.state is S.PAUSED_OFFLINE, timeout=30, what="read timeout → offline")
        time.sleep(0.5)
        proxy.set_mode("pass")

    _, events = run_row(chaos_server, proxy, journal, tmp_path, variant, inject, read_timeout=1.5)
    assert S.PAUSED_OFFLINE in states(events) and proxy.stats["stalled"] >= 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_offline_60s_then_back(chaos_server, proxy, journal, tmp_path, variant):
    """Offline for 60 s of the engine's (scaled) time with several probes refused, then back: it resumes by itself
    (against the seed-only server, whose 404 on /health still means "online")."""
    def inject(up, engine, trigger, **_):
        trigger(1)
        proxy.set_mode("refuse")
        wait_for(lambda: up.state is S.PAUSED_OFFLINE, timeout=30, what="offline")
        assert not engine.is_online and not up.progress().online
        refused = proxy.stats["refused"]
        time.sleep(60 * SCALE)
        wait_for(lambda: proxy.stats["refused"] >= refused + 3, timeout=30, what="probes while offline")
        proxy.set_mode("pass")

    up, events = run_row(chaos_server, proxy, journal, tmp_path, variant, inject)
    assert S.PAUSED_OFFLINE in states(events)
    assert up.progress().online


@pytest.mark.parametrize("variant", VARIANTS)
def test_401_mid_session_then_login(chaos_server, proxy, journal, tmp_path, variant):
    def inject(up, engine, tokens, trigger, **_):
        trigger(1)
        chaos_server.revoke()
        wait_for(lambda: up.state is S.AUTH_REQUIRED, timeout=30, what="401 → AUTH_REQUIRED")
        assert journal.get_session(up.id).state == "auth_required"
        time.sleep(0.2)
        assert up.state is S.AUTH_REQUIRED  # it waits for the login, it does not spin or fail
        tokens.token = chaos_server.login_again()
        engine.auth_restored()

    _, events = run_row(chaos_server, proxy, journal, tmp_path, variant, inject)
    assert S.AUTH_REQUIRED in states(events)


@pytest.mark.parametrize("variant", VARIANTS)
def test_session_expired_mid_upload(chaos_server, proxy, journal, tmp_path, variant):
    first_session = {}

    def inject(up, trigger, **_):
        trigger(2)
        first_session["id"] = up.server_session_id
        chaos_server.expire_sessions()

    up, events = run_row(chaos_server, proxy, journal, tmp_path, variant, inject)
    assert up.server_session_id != first_session["id"]  # re-initialised and replayed
    assert states(events).count(S.INITIALIZING) == 2


@pytest.mark.parametrize("variant", VARIANTS)
def test_server_restart(chaos_server, proxy, journal, tmp_path, variant):
    before = {}

    def inject(up, trigger, **_):
        # slow parts so the restart lands mid-upload, never on a finalize whose answer it cuts (the seed-only server
        # forgets a finalized session: a repeated finalize is a 404 there and the client would replay, correctly)
        chaos_server.fault("/api/v1/videos/chunk", count=10_000, status=None, delay=0.1)
        trigger(2)
        before["session"] = up.server_session_id
        chaos_server.restart(down_for=0.5)
        chaos_server.clear_faults()

    up, _ = run_row(chaos_server, proxy, journal, tmp_path, variant, inject)
    assert up.server_session_id == before["session"]  # the restarted server still knew the session: no replay


@pytest.mark.parametrize("variant", VARIANTS)
def test_kill_9_client_mid_upload_then_restart(chaos_server, proxy, journal, tmp_path, variant):
    path = tmp_path / "chaos.webm"
    cmd = [sys.executable, "-m", "tests.chaos.upload_client", proxy.api_url, str(journal.path), str(path)]
    if variant == "finished":
        write_random(path, SIZE, seed=21)
    else:
        cmd += ["--grow", str(SIZE), "--hold-at", str(21 * MIB)]  # still recording when killed
    # slow every chunk a little so the kill lands mid-upload
    chaos_server.fault(route="/api/v1/videos/chunk", count=10_000, status=None, delay=0.15)
    env = {**os.environ, "SNAPLARK_TOKEN": chaos_server.token, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("started "), proc.stderr.read() if proc.poll() is not None else line
        upload_id = int(line.split()[1])
        wait_for(lambda: sum(p.acked for p in journal.parts(upload_id)) >= 2 or proc.poll() is not None,
                 timeout=60, what="two parts acked by the client process")
        assert proc.poll() is None, "client finished before it could be killed"
        size_at_kill = path.stat().st_size
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    rec = journal.get_session(upload_id)
    assert rec.state not in ("completed", "failed")
    if variant == "growing":
        assert not rec.finished and size_at_kill < SIZE  # killed while still recording
    chaos_server.clear_faults()

    events: list = []
    engine = make_engine(proxy, Tokens(chaos_server.token), journal, events)
    try:
        (up,) = engine.resume_all()
        url = up.wait(180)
    finally:
        assert engine.stop(15)
    verify(chaos_server, journal, upload_id, path, url)
