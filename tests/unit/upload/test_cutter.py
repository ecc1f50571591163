import hashlib
import os

import pytest

from tray.upload.cutter import MIN_PART_SIZE, LocalFileError, PartCutter, read_range
from tray.upload.journal import PartRecord

MIB = 1024 * 1024
P = MIN_PART_SIZE


def test_cut_only_when_a_full_part_is_durable(tmp_path):
    c = PartCutter(tmp_path / "f.webm")
    assert c.cut(P - 1) == []
    parts = c.cut(P)
    assert [(p.index, p.offset, p.length) for p in parts] == [(0, 0, P)]
    assert c.cut(P + 300_000) == []
    assert c.cut(2 * P - 1) == []
    assert [(p.index, p.offset) for p in c.cut(2 * P)] == [(1, P)]


def test_a_big_jump_cuts_several_parts_and_finish_adds_a_short_tail(tmp_path):
    c = PartCutter(tmp_path / "f.webm")
    parts = c.cut(3 * P + 123)
    assert [(p.index, p.offset, p.length) for p in parts] == [(0, 0, P), (1, P, P), (2, 2 * P, P)]
    tail = c.finish(3 * P + 123)
    assert [(p.index, p.offset, p.length) for p in tail] == [(3, 3 * P, 123)]
    assert c.finish(3 * P + 123) == []  # idempotent


def test_exact_multiple_has_no_empty_tail(tmp_path):
    c = PartCutter(tmp_path / "f.webm")
    parts = c.finish(2 * P)
    assert [(p.index, p.length) for p in parts] == [(0, P), (1, P)]


def test_small_file_is_one_part_zero(tmp_path):
    c = PartCutter(tmp_path / "f.webm")
    assert c.cut(1000) == []
    assert [(p.index, p.offset, p.length) for p in c.finish(4 * MIB)] == [(0, 0, 4 * MIB)]


def test_empty_file_and_shrinking_counts_are_errors(tmp_path):
    with pytest.raises(LocalFileError, match="empty"):
        PartCutter(tmp_path / "f.webm").finish(0)
    c = PartCutter(tmp_path / "f.webm")
    c.cut(2 * P)
    with pytest.raises(LocalFileError, match="shrank"):
        c.finish(P + 5)


def test_resume_from_journal_parts(tmp_path):
    parts = [PartRecord(0, 0, P), PartRecord(1, P, P)]
    c = PartCutter(tmp_path / "f.webm", parts=parts)
    assert (c.next_index, c.next_offset) == (2, 2 * P)
    assert [(p.index, p.offset) for p in c.cut(3 * P)] == [(2, 2 * P)]
    with pytest.raises(ValueError):
        PartCutter(tmp_path / "f.webm", parts=[PartRecord(0, 0, P), PartRecord(1, P + 1, P)])


def test_part_size_below_minimum_is_refused(tmp_path):
    with pytest.raises(ValueError):
        PartCutter(tmp_path / "f", part_size=P - 1)


def test_read_hashes_what_is_on_disk_and_sees_rewrites(tmp_path):
    path = tmp_path / "f.webm"
    data = bytearray(os.urandom(P + 10))
    path.write_bytes(data)
    c = PartCutter(path)
    (p0,) = c.cut(P)
    got, sha = c.read(p0)
    assert got == bytes(data[:P]) and sha == hashlib.sha256(data[:P]).hexdigest()
    # the muxer rewrites header bytes at close: part 0's hash changes
    with open(path, "r+b") as f:
        f.seek(40)
        f.write(b"\x42" * 386)
    _, sha2 = c.read(p0)
    assert sha2 != sha


def test_read_of_a_shrunk_or_missing_file_is_a_clear_error(tmp_path):
    path = tmp_path / "f.webm"
    path.write_bytes(b"x" * 100)
    with pytest.raises(LocalFileError, match="shrank"):
        read_range(path, 50, 60)
    path.unlink()
    with pytest.raises(LocalFileError, match="disappeared"):
        read_range(path, 0, 10)


# --- streaming: a server that accepts small parts (init answer minPartSize) -----------------------------------------
K64 = 64 * 1024


def test_streaming_cuts_a_small_part_zero_then_whatever_became_durable(tmp_path):
    c = PartCutter(tmp_path / "f.webm")
    assert c.stream(1024, 10_000) and c.streaming
    assert c.cut(K64 - 1) == []  # part 0 must hold every byte the muxer rewrites at close
    assert [(p.index, p.offset, p.length) for p in c.cut(300_000)] == [(0, 0, K64), (1, K64, 300_000 - K64)]
    assert c.cut(300_000 + K64 - 1) == []  # under the floor: wait for the next flush
    assert [(p.index, p.offset, p.length) for p in c.cut(400_000)] == [(2, 300_000, 100_000)]
    # a long outage: what piled up goes in parts of at most part_size
    parts = c.cut(400_000 + 2 * P + 5)
    assert [(p.index, p.length) for p in parts] == [(3, P), (4, P)]
    assert [(p.index, p.offset, p.length) for p in c.finish(400_000 + 2 * P + 5)] == [(5, 400_000 + 2 * P, 5)]


def test_streaming_needs_a_server_minimum_below_the_part_size(tmp_path):
    c = PartCutter(tmp_path / "f.webm")
    assert not c.stream(P) and not c.streaming  # an S3-backed server says 5 MiB: nothing changes
    assert c.cut(P - 1) == [] and [(p.index, p.length) for p in c.cut(P)] == [(0, P)]
    c = PartCutter(tmp_path / "f.webm")
    assert c.stream(1 * MIB)  # a bigger minimum than our floor is the floor
    assert [(p.index, p.length) for p in c.cut(3 * MIB)] == [(0, MIB), (1, 2 * MIB)]
    assert c.cut(4 * MIB - 1) == [] and [(p.index, p.length) for p in c.cut(4 * MIB)] == [(2, MIB)]


def test_streaming_falls_back_to_whole_parts_past_half_the_part_limit(tmp_path):
    c = PartCutter(tmp_path / "f.webm")
    c.stream(1, max_parts=6)  # streams parts 0..2, then whole parts so the limit is never reached
    parts = c.cut(K64 + 2 * 100_000)
    assert [(p.index, p.length) for p in parts] == [(0, K64), (1, 200_000)]
    assert [(p.index, p.length) for p in c.cut(K64 + 300_000)] == [(2, 100_000)]
    assert not c.streaming
    assert c.cut(K64 + 300_000 + P - 1) == []
    assert [(p.index, p.length) for p in c.cut(K64 + 300_000 + P)] == [(3, P)]
