"""422 checksum_mismatch handling: bytes corrupted in transit by the proxy are re-read from disk and re-sent; three
mismatches in a row on one part mean the local file cannot be trusted → FAILED with the journal kept."""

from __future__ import annotations

import pytest

from tray.upload.engine import UploadFailed
from tray.upload.state import UploadState as S

from tests.integration.upload.helpers import MIB, write_random

from tests.server_kinds import make_server

from .test_chaos_matrix import Tokens, make_engine, verify


@pytest.fixture
def chaos_server(tmp_path):
    """The reference server only: a seed-only server has no sha256 check, so a part corrupted in transit is stored
    corrupted there (what the per-part sha256 extension exists to prevent; `snaplark server check` reports it)."""
    srv = make_server("reference", tmp_path / "server-data").start()
    yield srv
    srv.stop()


def test_one_corrupted_part_is_resent_and_the_file_matches(chaos_server, proxy, journal, tmp_path):
    path = tmp_path / "c.webm"
    write_random(path, 16 * MIB + 3)
    events: list = []
    engine = make_engine(proxy, Tokens(chaos_server.token), journal, events)
    try:
        proxy.set_mode("corrupt", nbytes=int(7.5 * MIB), times=1)  # 2.5 MiB into part 2 (by position, not timing)
        up = engine.upload_file(path)
        url = up.wait(60)
    finally:
        assert engine.stop(10)
    assert proxy.stats["corrupted"] == 1
    verify(chaos_server, journal, up.id, path, url)


def test_three_mismatches_in_a_row_fail_clearly_and_keep_the_journal(chaos_server, proxy, journal, tmp_path):
    path = tmp_path / "c.webm"
    write_random(path, 16 * MIB + 3)
    events: list = []
    engine = make_engine(proxy, Tokens(chaos_server.token), journal, events)
    try:
        # Armed before the upload starts, so the flips land by byte position, not by timing: requests go one at a
        # time (init, part 1, part 2, ...), each part request is 5 MiB plus a few hundred bytes of headers. The first
        # flip lands 2.5 MiB into the first send of part 2, and each next one 5 MiB later, i.e. 2.5 MiB into each
        # re-send of part 2 (header drift is bytes against a 2.5 MiB margin either side).
        proxy.set_mode("corrupt", nbytes=5 * MIB, times=3, first=int(7.5 * MIB))
        up = engine.upload_file(path)
        with pytest.raises(UploadFailed, match="corrupt"):
            up.wait(60)
    finally:
        assert engine.stop(10)
    assert proxy.stats["corrupted"] == 3
    rec = journal.get_session(up.id)
    assert rec.state == "failed" and "checksum" in rec.error
    assert path.exists() and len(rec.parts) == 4 and sum(p.acked for p in rec.parts) >= 1
    assert up.state is S.FAILED
