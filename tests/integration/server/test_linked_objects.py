"""Local storage finalizes without copying (parts linked, served as their concatenation): every byte and every
Range across part boundaries must come back exactly; with a whole-file sha256 the copy-and-verify path is used."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests

from .conftest import EBML_MAGIC

MiB = 1024 * 1024


def _upload(server, parts: list[bytes], sha: str | None = None) -> str:
    h = {"Authorization": f"Bearer {server.token}"}
    sid = requests.post(f"{server.api_url}/videos/init", headers=h, timeout=30, json={
        "filename": "r.webm", "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 1, "resolution": "2x2"}
    ).json()["sessionId"]
    for i in [1, 2, 0]:  # part 0 last, as the client sends it
        r = requests.post(f"{server.api_url}/videos/chunk", headers=h, timeout=60,
                          data={"sessionId": sid, "chunkIndex": str(i)}, files={"chunk": (f"chunk_{i}.webm", parts[i])})
        assert r.status_code == 200, r.text
    body = {"sessionId": sid, "totalChunks": 3, "uploadedChunks": [0, 1, 2], "duration": 1.0, "metadata": {}}
    if sha:
        body["sha256"] = sha
    first = requests.post(f"{server.api_url}/videos/finalize", headers=h, json=body, timeout=60)
    assert first.status_code == 200, first.text
    again = requests.post(f"{server.api_url}/videos/finalize", headers=h, json=body, timeout=60)
    assert again.json() == first.json()  # idempotent
    return first.json()["url"]


@pytest.mark.parametrize("with_sha", [False, True])
def test_every_byte_and_ranges_across_part_boundaries(server, with_sha):
    parts = [EBML_MAGIC + os.urandom(5 * MiB + 13), os.urandom(5 * MiB + 3), os.urandom(1234)]
    whole = b"".join(parts)
    url = _upload(server, parts, hashlib.sha256(whole).hexdigest() if with_sha else None)
    got = requests.get(url, timeout=60)
    assert got.status_code == 200 and int(got.headers["content-length"]) == len(whole)
    assert hashlib.sha256(got.content).digest() == hashlib.sha256(whole).digest()
    b1 = len(parts[0])
    b2 = b1 + len(parts[1])
    for start, end in [(0, 0), (b1 - 5, b1 + 5), (b1, b1), (b2 - 1, b2 + 100), (100, b2 + 10), (len(whole) - 1,
                                                                                                    len(whole) - 1)]:
        r = requests.get(url, headers={"Range": f"bytes={start}-{end}"}, timeout=60)
        assert r.status_code == 206, (start, end)
        assert r.content == whole[start:end + 1], (start, end)
        assert r.headers["content-range"] == f"bytes {start}-{end}/{len(whole)}"
    tail = requests.get(url, headers={"Range": "bytes=-10"}, timeout=60)
    assert tail.content == whole[-10:]
    head = requests.head(url, timeout=30)
    assert int(head.headers["content-length"]) == len(whole)
    # the session's own part files are gone; the object survives them
    assert not list((server.data_dir / "sessions").glob("*/*.part"))
