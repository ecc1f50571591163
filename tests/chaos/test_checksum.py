"""422 checksum_mismatch handling: bytes corrupted in transit by the proxy are re-read from disk and re-sent; three
mismatches in a row on one part mean the local file cannot be trusted → FAILED with the journal kept."""

from __future__ import annotations

import pytest

from tray.upload.engine import UploadFailed
from tray.upload.state import UploadState as S

from tests.integration.upload.helpers import MIB, write_random

from .test_chaos_matrix import Tokens, make_engine, verify, wait_for, acked


def test_one_corrupted_part_is_resent_and_the_file_matches(chaos_server, proxy, journal, tmp_path):
    path = tmp_path / "c.webm"
    write_random(path, 16 * MIB + 3)
    events: list = []
    engine = make_engine(proxy, Tokens(chaos_server.token), journal, events)
    try:
        up = engine.upload_file(path)
        wait_for(lambda: acked(up) >= 1, what="first part")
        proxy.set_mode("corrupt", nbytes=int(2.5 * MIB), times=1)
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
        up = engine.upload_file(path)
        wait_for(lambda: acked(up) >= 1, what="first part")
        # one flip inside each of the next three requests (each carries the same ~5 MiB part again)
        proxy.set_mode("corrupt", nbytes=6 * MIB, times=3, first=int(2.5 * MIB))
        with pytest.raises(UploadFailed, match="corrupt"):
            up.wait(60)
    finally:
        assert engine.stop(10)
    assert proxy.stats["corrupted"] == 3
    rec = journal.get_session(up.id)
    assert rec.state == "failed" and "checksum" in rec.error
    assert path.exists() and len(rec.parts) == 4 and sum(p.acked for p in rec.parts) >= 1
    assert up.state is S.FAILED
