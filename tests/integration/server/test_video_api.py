"""Every video endpoint and every error row of API.md, over real HTTP, for both storage backends and both metadata
databases (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest
import requests

from .conftest import FIVE_MIB, SEED_INIT, finalize, init_session, make_parts, send_chunk, sha


@pytest.fixture
def srv(srv_db):
    return srv_db


def test_health_and_me(srv):
    for url in (srv.url + "/health", srv.api_url + "/health"):
        r = requests.get(url, timeout=10)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        for deep in ("", "?deep=1"):  # a balancer's health check may send HEAD: the GET's status, no body
            h = requests.head(url + deep, timeout=10)
            assert (h.status_code, h.content) == (200, b""), (url + deep, h.status_code, h.text)
    r = requests.get(srv.api_url + "/me", headers=srv.headers(), timeout=10)
    assert r.status_code == 200 and r.json() == {"user": "alice"}


def test_auth_errors_are_401_json(srv):
    for headers in ({}, {"Authorization": "Bearer nope-not-a-token"}, {"Authorization": "Basic abc"}):
        for method, path in (("GET", "/me"), ("POST", "/videos/init"), ("POST", "/videos/chunk"),
                             ("POST", "/videos/finalize"), ("POST", "/screenshots/upload"),
                             ("GET", "/videos/abc/status")):
            r = requests.request(method, srv.api_url + path, headers=headers, timeout=10)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["error"] == "unauthorized"


def test_full_upload_with_extensions(srv):
    parts = make_parts([FIVE_MIB, FIVE_MIB, 1234])
    whole = b"".join(parts)
    sid = init_session(srv)
    # part 0 last, as the desktop engine does; each with its sha256
    for i in (1, 2, 0):
        r = send_chunk(srv, sid, i, parts[i], sha256=sha(parts[i]))
        assert r.status_code == 200, r.text
        assert r.json() == {"received": True, "chunkIndex": i, "sha256": sha(parts[i]), "size": len(parts[i])}
    st = requests.get(f"{srv.api_url}/videos/{sid}/status", headers=srv.headers(), timeout=10).json()
    assert st["sessionId"] == sid and st["state"] == "open" and st["expiresAt"].endswith("Z")
    assert st["parts"] == [{"chunkIndex": i, "size": len(p), "sha256": sha(p)} for i, p in enumerate(parts)]
    r = finalize(srv, sid, 3, sha256=sha(whole))
    assert r.status_code == 200, r.text
    result = r.json()
    assert set(result) == {"key", "url", "pageUrl"} and result["key"].startswith("videos/")  # pageUrl: extension
    assert result["pageUrl"] == result["url"].rsplit(".", 1)[0]  # the share page: /v/<id>, the file /v/<id>.webm
    served = requests.get(result["url"], timeout=30)
    assert served.status_code == 200 and served.headers["content-type"] == "video/webm"
    assert sha(served.content) == sha(whole)
    # idempotent finalize: same answer
    again = finalize(srv, sid, 3, sha256=sha(whole))
    assert again.status_code == 200 and again.json() == result
    st = requests.get(f"{srv.api_url}/videos/{sid}/status", headers=srv.headers(), timeout=10).json()
    assert st["state"] == "finalized" and st["expiresAt"] is None and len(st["parts"]) == 3
    # repeating an acknowledged part after finalize is harmless; different bytes are refused
    assert send_chunk(srv, sid, 2, parts[2]).status_code == 200
    r = send_chunk(srv, sid, 2, b"other bytes")
    assert r.status_code == 409 and r.json()["error"] == "session_finalized"
    assert sha(requests.get(result["url"], timeout=30).content) == sha(whole)


def test_range_requests_on_served_video(srv):
    parts = make_parts([4000])
    sid = init_session(srv)
    assert send_chunk(srv, sid, 0, parts[0]).status_code == 200
    url = finalize(srv, sid, 1).json()["url"]
    r = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=10)
    assert r.status_code == 206 and r.content == parts[0][10:20]
    assert r.headers["content-range"] == "bytes 10-19/4000"
    r = requests.get(url, headers={"Range": "bytes=-5"}, timeout=10)
    assert r.status_code == 206 and r.content == parts[0][-5:]
    r = requests.get(url, headers={"Range": "bytes=3990-"}, timeout=10)
    assert r.status_code == 206 and r.content == parts[0][3990:]
    r = requests.get(url, headers={"Range": "bytes=5000-"}, timeout=10)
    assert r.status_code == 416 and r.json()["error"] == "range_not_satisfiable"
    assert r.headers["content-range"] == "bytes */4000"
    r = requests.get(url, headers={"Range": "garbage"}, timeout=10)  # malformed: ignored, whole file
    assert r.status_code == 200 and r.content == parts[0]
    r = requests.head(url, timeout=10)
    assert r.status_code == 200 and r.headers["content-length"] == "4000" and r.headers["accept-ranges"] == "bytes"


def test_replace_part_is_idempotent_and_last_write_wins(srv):
    sid = init_session(srv)
    (a,), (b,) = make_parts([3000], seed=1), make_parts([3000], seed=2)
    assert send_chunk(srv, sid, 0, a).status_code == 200
    assert send_chunk(srv, sid, 0, a).status_code == 200
    assert send_chunk(srv, sid, 0, b, sha256=sha(b)).status_code == 200
    st = requests.get(f"{srv.api_url}/videos/{sid}/status", headers=srv.headers(), timeout=10).json()
    assert st["parts"] == [{"chunkIndex": 0, "size": 3000, "sha256": sha(b)}]
    url = finalize(srv, sid, 1).json()["url"]
    assert requests.get(url, timeout=10).content == b


def test_checksum_mismatch_stores_nothing(srv):
    sid = init_session(srv)
    data = make_parts([2048])[0]
    r = send_chunk(srv, sid, 0, data, sha256=sha(b"something else"))
    assert r.status_code == 422 and r.json()["error"] == "checksum_mismatch"
    st = requests.get(f"{srv.api_url}/videos/{sid}/status", headers=srv.headers(), timeout=10).json()
    assert st["parts"] == []
    r = finalize(srv, sid, 1)
    assert r.status_code == 409 and r.json()["missing"] == [0]


def test_finalize_incomplete_lists_missing(srv):
    sid = init_session(srv)
    parts = make_parts([FIVE_MIB, 100, 100])
    assert send_chunk(srv, sid, 0, parts[0]).status_code == 200
    assert send_chunk(srv, sid, 2, parts[2]).status_code == 200
    r = finalize(srv, sid, 3)
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "incomplete" and body["missing"] == [1] and body["message"]
    # uploadedChunks disagreeing with totalChunks is also incomplete
    assert send_chunk(srv, sid, 1, parts[1]).status_code == 200
    r = finalize(srv, sid, 3, uploaded=[0, 2])
    assert r.status_code == 409 and r.json()["missing"] == [1]
    # part 1 (not last) is under 5 MiB
    r = finalize(srv, sid, 3)
    assert r.status_code == 409 and r.json()["undersized"] == [1] and 1 in r.json()["missing"]
    # fix it and finish
    assert send_chunk(srv, sid, 1, make_parts([FIVE_MIB], seed=7)[0]).status_code == 200
    assert finalize(srv, sid, 3).status_code == 200


def test_finalize_whole_file_hash_mismatch(srv):
    sid = init_session(srv)
    data = make_parts([5000])[0]
    assert send_chunk(srv, sid, 0, data).status_code == 200
    r = finalize(srv, sid, 1, sha256=sha(b"not it"))
    assert r.status_code == 422 and r.json()["error"] == "checksum_mismatch"
    st = requests.get(f"{srv.api_url}/videos/{sid}/status", headers=srv.headers(), timeout=10).json()
    assert st["state"] == "open"
    if not r.json()["partsDiscarded"]:
        assert len(st["parts"]) == 1
    else:
        assert st["parts"] == []
        assert send_chunk(srv, sid, 0, data).status_code == 200
    r = finalize(srv, sid, 1, sha256=sha(data))
    assert r.status_code == 200
    assert requests.get(r.json()["url"], timeout=10).content == data


def test_unknown_and_foreign_sessions_are_404(srv):
    bob = srv.add_user("bob")
    sid = init_session(srv)
    assert send_chunk(srv, sid, 0, b"x" * 100).status_code == 200
    for token in (bob, None):
        other_sid = "does-not-exist" if token is None else sid
        r = send_chunk(srv, other_sid, 0, b"y" * 10, token=token)
        assert r.status_code == 404 and r.json()["error"] == "session_not_found"
        r = requests.get(f"{srv.api_url}/videos/{other_sid}/status", headers=srv.headers(token), timeout=10)
        assert r.status_code == 404 and r.json()["error"] == "session_not_found"
        r = finalize(srv, other_sid, 1, token=token)
        assert r.status_code == 404 and r.json()["error"] == "session_not_found"
    # bob's probing changed nothing
    st = requests.get(f"{srv.api_url}/videos/{sid}/status", headers=srv.headers(), timeout=10).json()
    assert st["parts"] == [{"chunkIndex": 0, "size": 100, "sha256": sha(b"x" * 100)}]


def test_init_validation(srv):
    bad = [
        {},
        {k: v for k, v in SEED_INIT.items() if k != "fps"},
        {**SEED_INIT, "extra": 1},
        {**SEED_INIT, "fps": "thirty"},
        {**SEED_INIT, "bitrate": -1},
        {**SEED_INIT, "resolution": "big"},
        {**SEED_INIT, "filename": ""},
        [SEED_INIT],
    ]
    for body in bad:
        r = requests.post(f"{srv.api_url}/videos/init", json=body, headers=srv.headers(), timeout=10)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", (body, r.text)
    r = requests.post(f"{srv.api_url}/videos/init", data=b"{not json", headers={**srv.headers(),
                      "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 422
    r = requests.post(f"{srv.api_url}/videos/init", data=b"a=b", headers={**srv.headers(),
                      "Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert r.status_code == 415


def test_chunk_field_validation(srv):
    sid = init_session(srv)
    cases = [
        ({"sessionId": sid, "chunkIndex": "-1"}, True),
        ({"sessionId": sid, "chunkIndex": "1.5"}, True),
        ({"sessionId": sid, "chunkIndex": "abc"}, True),
        ({"sessionId": sid, "chunkIndex": "10000"}, True),
        ({"sessionId": sid, "chunkIndex": "99999999999999999999"}, True),
        ({"sessionId": sid}, True),
        ({"chunkIndex": "0"}, True),
        ({"sessionId": sid, "chunkIndex": "0", "bogus": "1"}, True),
        ({"sessionId": sid, "chunkIndex": "0", "sha256": "XYZ"}, True),
        ({"sessionId": sid, "chunkIndex": "0"}, False),  # no file
    ]
    for fields, with_file in cases:
        files = {"chunk": ("chunk_0.webm", b"data", "video/webm")} if with_file else {"dummy": ("x", b"1")}
        r = requests.post(f"{srv.api_url}/videos/chunk", data=fields, files=files, headers=srv.headers(), timeout=10)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", (fields, r.text)
    r = requests.post(f"{srv.api_url}/videos/chunk", json={"sessionId": sid}, headers=srv.headers(), timeout=10)
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    st = requests.get(f"{srv.api_url}/videos/{sid}/status", headers=srv.headers(), timeout=10).json()
    assert st["parts"] == []


def test_oversize_part_is_413(make_server, backend):
    s = make_server(backend, max_part_size=64 * 1024, min_part_size=1024)
    sid = init_session(s)
    r = send_chunk(s, sid, 0, b"z" * (64 * 1024 + 1))
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    # a body over the limit declared up front is refused before reading
    r = requests.post(f"{s.api_url}/videos/chunk", data=b"x" * 200_000,
                      headers={**s.headers(), "Content-Type": "multipart/form-data; boundary=abc"}, timeout=10)
    assert r.status_code == 413
    st = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10).json()
    assert st["parts"] == []
    assert send_chunk(s, sid, 0, b"z" * (64 * 1024)).status_code == 200


def test_finalize_validation(srv):
    sid = init_session(srv)
    assert send_chunk(srv, sid, 0, b"q" * 10).status_code == 200
    bad = [
        {"sessionId": sid},
        {"sessionId": sid, "totalChunks": 0, "uploadedChunks": []},
        {"sessionId": sid, "totalChunks": "1", "uploadedChunks": [0]},
        {"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0, 0]},
        {"sessionId": sid, "totalChunks": 1, "uploadedChunks": [5]},
        {"sessionId": sid, "totalChunks": 1, "uploadedChunks": "0"},
        {"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0], "sha256": "nothex"},
        {"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0], "duration": "long"},
        {"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0], "surprise": True},
        {"sessionId": 5, "totalChunks": 1, "uploadedChunks": [0]},
    ]
    for body in bad:
        r = requests.post(f"{srv.api_url}/videos/finalize", json=body, headers=srv.headers(), timeout=10)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", (body, r.text)
    st = requests.get(f"{srv.api_url}/videos/{sid}/status", headers=srv.headers(), timeout=10).json()
    assert st["state"] == "open"


def test_unknown_routes_and_methods_are_json(srv):
    r = requests.get(srv.url + "/nothing/here", timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = requests.get(srv.api_url + "/videos/init", headers=srv.headers(), timeout=10)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    r = requests.get(srv.url + "/v/nope.webm", timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = requests.post(srv.url + "/_faults", json={"route": "*"}, timeout=10)
    assert r.status_code == 404  # fault injection is off by default


def _multipart_body(session_id: str, index: int, data: bytes, boundary: str = "xYzBoundary") -> tuple[bytes, str]:
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"sessionId\"\r\n\r\n{session_id}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"chunkIndex\"\r\n\r\n{index}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"chunk\"; filename=\"chunk_{index}.webm\"\r\n"
            f"Content-Type: video/webm\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_chunked_transfer_encoding_limits_by_counting(make_server):
    """Without Content-Length the limit is enforced by a running byte counter while streaming."""
    s = make_server("local", max_part_size=100_000, min_part_size=1)
    sid = init_session(s)

    def stream(body: bytes, step: int = 8192):
        for i in range(0, len(body), step):
            yield body[i:i + step]

    ok_body, ctype = _multipart_body(sid, 0, b"k" * 99_000)
    r = requests.post(f"{s.api_url}/videos/chunk", data=stream(ok_body), timeout=30,
                      headers={**s.headers(), "Content-Type": ctype})
    assert r.status_code == 200 and r.json()["size"] == 99_000
    big_body, ctype = _multipart_body(sid, 1, b"k" * 300_000)
    r = requests.post(f"{s.api_url}/videos/chunk", data=stream(big_body), timeout=30,
                      headers={**s.headers(), "Content-Type": ctype})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    st = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10).json()
    assert [p["chunkIndex"] for p in st["parts"]] == [0]
    assert list((s.data_dir / "spool").iterdir()) == []


def test_truncated_multipart_body_stores_nothing(local_srv):
    s = local_srv
    sid = init_session(s)
    body, ctype = _multipart_body(sid, 0, b"t" * 5000)
    r = requests.post(f"{s.api_url}/videos/chunk", data=body[:-30], timeout=10,
                      headers={**s.headers(), "Content-Type": ctype})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    st = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10).json()
    assert st["parts"] == [] and list((s.data_dir / "spool").iterdir()) == []
