"""A client that speaks only the seed protocol (raw requests, exact multipart fields, no extensions) uploads a
3-part video and gets a URL whose bytes are sha256-identical to what it sent."""

from __future__ import annotations

import hashlib

import requests

from .conftest import EBML_MAGIC, FIVE_MIB, make_parts


def test_seed_only_client_three_parts(srv):
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {srv.token}", "Accept": "application/json"})
    base = srv.api_url
    r = http.post(f"{base}/videos/init", json={"filename": "recording-1700000000000.webm", "timestamp": 1700000000000,
                                               "fps": 30, "codec": "vp9", "bitrate": 2500000,
                                               "resolution": "1920x1080"}, timeout=30)
    # the seed's one field; anything else is an optional extension (minPartSize/maxParts) a seed client ignores
    assert r.status_code == 200 and isinstance(r.json()["sessionId"], str) and r.json()["sessionId"]
    session_id = r.json()["sessionId"]
    parts = make_parts([FIVE_MIB, FIVE_MIB + 17, 777_777], seed=3)
    uploaded = []
    for i, blob in enumerate(parts):
        r = http.post(f"{base}/videos/chunk",
                      files=[("sessionId", (None, session_id)), ("chunkIndex", (None, str(i))),
                             ("chunk", (f"chunk_{i}.webm", blob, "video/webm"))], timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["received"] is True and r.json()["chunkIndex"] == i
        uploaded.append(i)
    r = http.post(f"{base}/videos/finalize", json={"sessionId": session_id, "totalChunks": len(uploaded),
                                                   "uploadedChunks": sorted(uploaded), "duration": 30.5,
                                                   "metadata": {"filename": "recording-1700000000000.webm"}},
                  timeout=120)
    assert r.status_code == 200, r.text
    key, url = r.json()["key"], r.json()["url"]
    assert key and url
    served = requests.get(url, timeout=60)
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(b"".join(parts)).hexdigest()


def test_file_field_before_text_fields(local_srv):
    """Field order inside the multipart body does not matter (the part is spooled before the session is known)."""
    s = local_srv
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {s.token}"})
    sid = http.post(f"{s.api_url}/videos/init", json={"filename": "r.webm", "timestamp": 1, "fps": 30.0,
                                                      "codec": "vp9", "bitrate": 1, "resolution": "10x10"},
                    timeout=10).json()["sessionId"]
    blob = EBML_MAGIC + b"abc" * 1000
    r = http.post(f"{s.api_url}/videos/chunk", files=[("chunk", ("chunk_0.webm", blob, "video/webm")),
                                                      ("chunkIndex", (None, "0")), ("sessionId", (None, sid))],
                  timeout=10)
    assert r.status_code == 200, r.text
    r = http.post(f"{s.api_url}/videos/finalize", json={"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0],
                                                        "duration": 1, "metadata": {}}, timeout=10)
    assert requests.get(r.json()["url"], timeout=10).content == blob
