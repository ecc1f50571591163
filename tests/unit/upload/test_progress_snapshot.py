"""ProgressSnapshot (tray/upload/progress.py): the typed progress value, and the seed's getProgress() shape that
``to_seed_dict()`` builds, checked against the seed's own code in ``docs/seed/cloud-upload.md`` (a copy of ``shared/seed/``)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from tray.upload.progress import ProgressSnapshot
from tray.upload.state import UploadState as S

REPO = Path(__file__).resolve().parents[3]
SEED_DOC = REPO / "docs" / "seed" / "cloud-upload.md"  # a copy of the team's shared/seed/cloud-upload.md


def seed_get_progress_fields() -> dict[str, type]:
    """The keys of the object ``getProgress()`` returns in the seed doc, in order, with the JS expression's type."""
    text = SEED_DOC.read_text(encoding="utf-8")
    body = re.search(r"getProgress\(\)\s*\{.*?return\s*\{(.*?)\n\s*\}", text, re.S)
    assert body, "getProgress() { ... return { ... } } not found in the seed document"
    fields: dict[str, type] = {}
    for line in body.group(1).splitlines():
        line = line.strip().rstrip(",")
        if not line:
            continue
        key, _, expr = (part.strip() for part in line.partition(":"))
        expr = expr or key  # shorthand `uploaded,` is `uploaded: uploaded` (a count: Set.size / Array.length)
        is_bool = expr.startswith("!!") or expr.endswith(".isOnline")
        fields[key] = bool if is_bool else int
    return fields


def snapshot(**kw) -> ProgressSnapshot:
    return ProgressSnapshot(**{"upload_id": 1, "kind": "video", "state": S.UPLOADING, **kw})


def test_to_seed_dict_has_exactly_the_seeds_keys_in_order_with_their_types():
    fields = seed_get_progress_fields()
    assert list(fields) == ["uploaded", "pending", "failed", "percentage", "isOnline", "hasSession"]
    seed = snapshot(parts_uploaded=3, parts_pending=2, parts_failed=1, bytes_sent=600, bytes_total=1000,
                    session_id="s1").to_seed_dict()
    assert list(seed) == list(fields)
    assert {k: type(v) for k, v in seed.items()} == fields


def test_to_seed_dict_values():
    s = snapshot(parts_uploaded=3, parts_pending=2, parts_failed=1, bytes_sent=600, bytes_total=1000, online=False)
    assert s.to_seed_dict() == {"uploaded": 3, "pending": 2, "failed": 1, "percentage": 60, "isOnline": False,
                                "hasSession": False}
    assert dataclasses.replace(s, session_id="abc").to_seed_dict()["hasSession"] is True


@pytest.mark.parametrize("sent,total,state,expected", [
    (0, 0, S.UPLOADING, 0), (1, 3, S.UPLOADING, 33), (999, 1000, S.FINALIZING, 99), (0, 0, S.COMPLETED, 100),
    (5, 10, S.COMPLETED, 100), (12, 10, S.UPLOADING, 100),
])
def test_percent_by_bytes_and_100_once_completed(sent, total, state, expected):
    assert snapshot(bytes_sent=sent, bytes_total=total, state=state).percent == expected


def test_recording_is_a_video_still_being_written():
    assert snapshot(finished=False).recording
    assert not snapshot(finished=True).recording
    assert not snapshot(kind="screenshot", finished=False).recording


def test_frozen_and_filename():
    s = snapshot(path=Path("/tmp/rec-1.webm"))
    assert s.filename == "rec-1.webm" and snapshot().filename is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.state = S.FAILED  # type: ignore[misc]
