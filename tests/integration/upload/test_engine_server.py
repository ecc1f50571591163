"""The upload engine over HTTP against both server kinds (``tests/server_kinds.py``): the real reference server and
the strict seed-only server. Each test ends with the server's own copy compared with the local file."""

from __future__ import annotations

import time
import io

import pytest

from tray.upload.engine import UploadFailed
from tray.upload.events import StateChanged, UploadProgress
from tray.upload.state import UploadState as S

from tests.server_kinds import server_each_kind  # noqa: F401 - the `server` fixture, of each kind

from .helpers import MIB, GrowingFile, TokenHolder, make_engine, sha256_file, write_random


def test_finished_file_uploads_in_parts_and_matches(server, journal, tmp_path):
    path = tmp_path / "clip.webm"
    sha = write_random(path, 12 * MIB + 777)
    events = []
    engine = make_engine(server.api_url, TokenHolder(server.token), journal, events=events)
    try:
        up = engine.upload_file(path, {"fps": 25})
        url = up.wait(60)
    finally:
        assert engine.stop(10)
    assert server.file_sha256(url) == sha
    rec = journal.get_session(up.id)
    assert rec.state == "completed" and rec.url == url
    assert [(p.index, p.length, p.acked) for p in rec.parts] == [(0, 5 * MIB, True), (1, 5 * MIB, True),
                                                                 (2, 2 * MIB + 777, True)]
    state, held = server.held_parts(rec.server_session_id)
    assert state == "finalized" and held == [(0, 5 * MIB), (1, 5 * MIB), (2, 2 * MIB + 777)]
    states = [e.new for e in events if isinstance(e, StateChanged)]
    assert states == [S.INITIALIZING, S.UPLOADING, S.FINALIZING, S.COMPLETED]
    last = [e.snapshot for e in events if isinstance(e, UploadProgress)][-1]
    assert (last.state, last.percent, last.url, last.upload_id, last.kind) == (S.COMPLETED, 100, url, up.id, "video")
    assert last.bytes_sent == last.bytes_total == 12 * MIB + 777 and last.session_id == rec.server_session_id
    assert last.to_seed_dict() == {"uploaded": 3, "pending": 0, "failed": 0, "percentage": 100, "isOnline": True,
                                   "hasSession": True}
    (h,) = journal.history()
    assert h.url == url and h.size == 12 * MIB + 777


def test_growing_recording_sends_part_zero_last_with_rewritten_header(server, journal, tmp_path):
    path = tmp_path / "rec.webm"
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        up = engine.start_recording_upload(path, {"resolution": "1280x720"})
        writer = GrowingFile(path, 17 * MIB + 5, step=512 * 1024)
        writer.gate.clear()
        writer.start(up)
        # let 11 MiB be written, then hold the writer and check parts 1 went up while recording, part 0 did not
        writer.gate.set()
        deadline = time.monotonic() + 30
        while writer.written < 11 * MIB and time.monotonic() < deadline:
            time.sleep(0.01)
        writer.gate.clear()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            parts = {p.index: p.acked for p in journal.parts(up.id)}
            if parts.get(1):
                break
            time.sleep(0.02)
        assert parts.get(1) is True and parts.get(0) is False, parts
        assert up.state is S.UPLOADING and not up.done
        writer.gate.set()
        writer.join()
        url = up.wait(60)
    finally:
        assert engine.stop(10)
    assert server.file_sha256(url) == sha256_file(path)
    rec = journal.get_session(up.id)
    assert rec.state == "completed" and rec.finished and rec.total_size == 17 * MIB + 5
    assert all(p.acked for p in rec.parts)
    assert_live_layout(server, rec.parts, 17 * MIB + 5)


def assert_live_layout(server, parts, total: int | None) -> None:
    """How a live recording is cut: 5 MiB parts for a seed server; for ours (it says minPartSize in the init
    answer) a 64 KiB part 0 and then parts of whatever became durable, each 64 KiB..5 MiB (tray/upload/cutter.py)."""
    layout = [(p.index, p.offset, p.length) for p in parts]
    assert [i for i, _, _ in layout] == list(range(len(layout)))
    assert all(parts[i].offset + parts[i].length == parts[i + 1].offset for i in range(len(parts) - 1))
    assert parts[0].offset == 0 and total in (None, parts[-1].offset + parts[-1].length)
    if server.kind == "seed":
        assert all(p.length == 5 * MIB for p in parts[:-1]) and parts[-1].length <= 5 * MIB, layout
    else:
        assert parts[0].length == 64 * 1024, layout
        assert all(64 * 1024 <= p.length <= 5 * MIB for p in parts[1:-1]), layout


def test_live_recording_leaves_only_part_zero_and_the_last_flush_for_after_stop(server, journal, tmp_path):
    """Issue 11's stop→link: what must still go up once the recorder stops. A seed server needs 5 MiB parts, so
    a 5 MiB part 0 and up to 5 MiB of tail wait for the stop; ours says minPartSize in the init answer and the
    engine streams each flush, leaving a 64 KiB part 0 and the bytes of the last flush."""
    path = tmp_path / "rec.webm"
    size = 12 * MIB + 300_000
    write_random(path, size)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        up = engine.start_recording_upload(path, {"resolution": "1280x720"})
        for n in range(700 * 1024, 12 * MIB, 700 * 1024):  # the muxer's ~1 s flushes
            up.durable(n)
        up.durable(12 * MIB)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            parts = journal.parts(up.id)
            cut_end = parts[-1].offset + parts[-1].length if parts else 0
            # a seed server's 5 MiB parts: 0 and 1 are cut, the 2.3 MiB after them wait (CI once polled before part 1)
            if parts and all(p.acked for p in parts[1:]) and cut_end == (10 if server.kind == "seed" else 12) * MIB:
                break
            time.sleep(0.02)
        unsent = [(p.index, p.length) for p in parts if not p.acked]
        if server.kind == "seed":
            assert unsent == [(0, 5 * MIB)] and cut_end == 10 * MIB  # 7.3 MiB left for after the stop
        else:
            assert unsent == [(0, 64 * 1024)] and cut_end == 12 * MIB, (unsent, cut_end)  # 364 KiB left
        with open(path, "r+b") as f:  # the muxer's rewrite at close
            f.seek(40)
            f.write(bytes(range(256)) + bytes(130))
        up.finished(size, 12.0, {})
        url = up.wait(60)
    finally:
        assert engine.stop(10)
    assert server.file_sha256(url) == sha256_file(path)


def test_small_file_is_a_single_part(server, journal, tmp_path):
    path = tmp_path / "short.webm"
    sha = write_random(path, 300_000)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        url = engine.upload_file(path).wait(30)
    finally:
        engine.stop(10)
    assert server.file_sha256(url) == sha
    (rec,) = journal.sessions()
    assert [(p.index, p.length) for p in rec.parts] == [(0, 300_000)]


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_screenshot_upload(server, journal, tmp_path):
    path = tmp_path / "shot.png"
    path.write_bytes(png_bytes())
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        url = engine.upload_screenshot(path).wait(30)
    finally:
        engine.stop(10)
    assert server.file_sha256(url) == sha256_file(path)
    assert journal.history()[0].kind == "screenshot"


def test_screenshot_survives_outage_and_is_resumed_by_a_new_engine(server, journal, tmp_path):
    path = tmp_path / "shot.png"
    path.write_bytes(png_bytes())
    server.fault("/api/v1/screenshots/upload", count=1000, status=503)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    up = engine.upload_screenshot(path)
    with pytest.raises(TimeoutError):
        up.wait(0.5)
    assert engine.stop(10)
    assert path.exists() and journal.get_session(up.id).state == "uploading"  # queued durably
    server.clear_faults()
    engine2 = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        (again,) = engine2.resume_all()
        url = again.wait(30)
    finally:
        engine2.stop(10)
    assert server.file_sha256(url) == sha256_file(path)


def test_resume_after_stop_sends_only_missing_parts(server, journal, tmp_path):
    path = tmp_path / "clip.webm"
    sha = write_random(path, 26 * MIB)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal, scale=0.001)
    up = engine.start_recording_upload(path)
    up.durable(16 * MIB)  # seed: parts 0..2 cut, 1 and 2 sent; ours: 64 KiB part 0, 3 x 5 MiB, 960 KiB (0 waits)
    cut = 3 if server.kind == "seed" else 5
    deadline = time.monotonic() + 30
    while sum(p.acked for p in journal.parts(up.id)) < cut - 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.fault("/api/v1/videos/chunk", count=10000, status=503)
    assert engine.stop(10)
    rec = journal.get_session(up.id)
    assert [p.acked for p in rec.parts] == [False] + [True] * (cut - 1) and not rec.finished
    assert_live_layout(server, rec.parts, None if server.kind == "seed" else 16 * MIB)
    server.clear_faults()
    assert server.held_parts(rec.server_session_id) == ("open", [(p.index, p.length) for p in rec.parts[1:]])

    engine2 = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        (again,) = engine2.resume_all()
        url = again.wait(60)
    finally:
        engine2.stop(10)
    # the interrupted recording is finalized as the file is on disk
    assert server.file_sha256(url) == sha
    rec = journal.get_session(up.id)
    assert rec.state == "completed" and [p.index for p in rec.parts] == list(range(6 if server.kind == "seed" else 7))  # the rest: 5 MiB parts


@pytest.mark.parametrize("server", ["reference"], indirect=True)
def test_status_route_missing_resume_trusts_the_journal_and_409_resends(server, journal, tmp_path):
    """A server without /status (faked on the reference server) but with the 409 extension: the journal is trusted,
    the finalize's 409 names the part the journal wrongly claimed, it is re-sent. (The strict seed-only server has
    no 409: there the same lie ends in a permanent 400, which is all a seed server can say.)"""
    path = tmp_path / "clip.webm"
    sha = write_random(path, 11 * MIB)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    up = engine.start_recording_upload(path)
    up.durable(11 * MIB)
    deadline = time.monotonic() + 30
    while not any(p.acked for p in journal.parts(up.id)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert engine.stop(10)
    # the journal claims part 0 too (it lies: a seed-only server cannot tell us), the status route is missing
    journal.set_acked(up.id, {0: True})
    server.fault("/api/v1/videos/*/status", count=100, status=404)
    engine2 = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        (again,) = engine2.resume_all()
        url = again.wait(60)  # finalize → 409 missing [0] → re-send → finalize
    finally:
        engine2.stop(10)
    assert server.file_sha256(url) == sha


def test_file_that_shrinks_while_uploading_fails_clearly_and_keeps_journal(server, journal, tmp_path):
    path = tmp_path / "clip.webm"
    write_random(path, 20 * MIB)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    server.fault("/api/v1/videos/chunk", count=1, delay=0.5, status=None)
    try:
        up = engine.upload_file(path)
        deadline = time.monotonic() + 10
        while up.state is not S.UPLOADING and time.monotonic() < deadline:
            time.sleep(0.005)
        with open(path, "r+b") as f:
            f.truncate(3 * MIB)
        with pytest.raises(UploadFailed, match="shrank"):
            up.wait(30)
    finally:
        engine.stop(10)
    rec = journal.get_session(up.id)
    assert rec.state == "failed" and "shrank" in rec.error and len(rec.parts) == 4
    assert path.exists()


def test_401_pauses_until_login(server, journal, tmp_path):
    path = tmp_path / "clip.webm"
    sha = write_random(path, 6 * MIB)
    tokens = TokenHolder("not-a-valid-token-at-all")
    events = []
    engine = make_engine(server.api_url, tokens, journal, events=events)
    try:
        up = engine.upload_file(path)
        deadline = time.monotonic() + 10
        while up.state is not S.AUTH_REQUIRED and time.monotonic() < deadline:
            time.sleep(0.01)
        assert up.state is S.AUTH_REQUIRED and engine.auth_required
        assert journal.get_session(up.id).state == "auth_required"
        tokens.token = server.token
        engine.auth_restored()
        url = up.wait(30)
    finally:
        engine.stop(10)
    assert server.file_sha256(url) == sha
    assert S.AUTH_REQUIRED in [e.new for e in events if isinstance(e, StateChanged)]


def test_token_fixed_without_auth_restored_is_noticed(server, journal, tmp_path):
    path = tmp_path / "clip.webm"
    sha = write_random(path, 1000)
    tokens = TokenHolder("not-a-valid-token-at-all")
    engine = make_engine(server.api_url, tokens, journal)
    try:
        up = engine.upload_file(path)
        deadline = time.monotonic() + 10
        while up.state is not S.AUTH_REQUIRED and time.monotonic() < deadline:
            time.sleep(0.01)
        assert up.state is S.AUTH_REQUIRED
        # a login that raced with the 401: nobody calls auth_restored(); noticed by GET /me (reference) or, on a
        # seed-only server without /me, by the token having changed since the one that was refused
        tokens.token = server.token
        url = up.wait(30)
    finally:
        engine.stop(10)
    assert server.file_sha256(url) == sha and not engine.auth_required


def test_local_copy_is_deleted_only_after_finalize_when_not_kept(server, journal, tmp_path):
    path = tmp_path / "clip.webm"
    sha = write_random(path, 6 * MIB)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal, keep_local_copy=False)
    try:
        url = engine.upload_file(path).wait(30)
    finally:
        engine.stop(10)
    assert server.file_sha256(url) == sha
    assert not path.exists()


def test_recorder_failure_then_finished_uploads_what_was_written(server, journal, tmp_path):
    path = tmp_path / "rec.webm"
    sha = write_random(path, 7 * MIB)
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        up = engine.start_recording_upload(path)
        up.durable(6 * MIB)
        up.failed("disk full")
        assert not up.done
        up.finished(7 * MIB, 3.0, {})
        url = up.wait(30)
    finally:
        engine.stop(10)
    assert server.file_sha256(url) == sha
    assert journal.get_session(up.id).metadata["recordingError"] == "disk full"


def test_recorder_failure_before_any_byte_ends_failed(server, journal, tmp_path):
    path = tmp_path / "never.webm"  # the recorder removed it
    engine = make_engine(server.api_url, TokenHolder(server.token), journal)
    try:
        up = engine.start_recording_upload(path)
        up.failed("stopped during the countdown")
        with pytest.raises(UploadFailed, match="nothing to upload"):
            up.wait(30)
    finally:
        engine.stop(10)
    assert journal.get_session(up.id).state == "failed"


def test_recorder_failure_without_finished_is_finished_after_a_grace_period(server, journal, tmp_path):
    from tray.upload.backoff import FakeClock
    from tray.upload.engine import RECORDER_FAILED_GRACE

    path = tmp_path / "rec.webm"
    sha = write_random(path, 2 * MIB)
    clock = FakeClock()
    engine = make_engine(server.api_url, TokenHolder(server.token), journal, clock=clock)
    try:
        up = engine.start_recording_upload(path)
        up.durable(MIB)
        up.failed("encoder crashed")
        with pytest.raises(TimeoutError):
            up.wait(0.3)  # still waiting for finished()
        clock.advance(RECORDER_FAILED_GRACE)
        url = up.wait(30)
    finally:
        engine.stop(10)
    assert server.file_sha256(url) == sha


def test_a_session_uploading_in_one_engine_is_not_resumed_by_another(server, journal, tmp_path):
    """Two processes on one journal (tray app + `snaplark upload --resume`): one owner per session. flock locks
    belong to an open file, so two engines in one process conflict exactly like two processes."""
    from tray.upload.journal import UploadJournal

    path = tmp_path / "rec.webm"
    write_random(path, 6 * MIB)
    a = make_engine(server.api_url, TokenHolder(server.token), journal)
    other_journal = UploadJournal(journal.path).open()
    b = make_engine(server.api_url, TokenHolder(server.token), other_journal)
    try:
        up = a.start_recording_upload(path)
        up.durable(6 * MIB)  # still recording: must not be "finished at its current size" by b
        assert b.resume_all() == []
        assert a.stop(10)
        (again,) = b.resume_all()  # a's worker is gone: its lease went with it
        url = again.wait(30)
    finally:
        a.stop(10)
        b.stop(10)
        other_journal.close()
    assert server.file_sha256(url) == sha256_file(path)
