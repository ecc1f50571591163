"""The part limits the init answer states (extension ``minPartSize``/``maxParts``) are the ones finalize enforces:
local storage takes 64 KiB parts (a live recording goes up about once a second), S3 keeps its 5 MiB minimum."""

from __future__ import annotations

import requests

from .conftest import FIVE_MIB, SEED_INIT, finalize, make_parts, send_chunk


def test_init_answer_states_the_limits_finalize_enforces(srv, backend):
    r = requests.post(f"{srv.api_url}/videos/init", json=SEED_INIT, headers=srv.headers(), timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    expected_min = 64 * 1024 if backend == "local" else FIVE_MIB
    assert body["minPartSize"] == expected_min and body["maxParts"] == 10_000
    sid = body["sessionId"]
    parts = make_parts([expected_min, expected_min - 1, 10])
    for i, data in enumerate(parts):
        assert send_chunk(srv, sid, i, data).status_code == 200
    r = finalize(srv, sid, 3)  # part 1 is one byte under the stated minimum
    assert r.status_code == 409 and r.json()["undersized"] == [1], r.text
    assert send_chunk(srv, sid, 1, make_parts([expected_min], seed=3)[0]).status_code == 200
    assert finalize(srv, sid, 3).status_code == 200
