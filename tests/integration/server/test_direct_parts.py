"""Parts straight to storage (issue 17, acceptance 3): presigned S3 UploadPart URLs, checked with ListParts before a
part counts. S3 is moto's server behind tests/s3_gate.py (which refuses expired URLs and wrong Content-MD5s as AWS
does); the bytes the reference server received are its own request-body counter (snaplark_http_request_bytes)."""

from __future__ import annotations

import base64
import hashlib

import boto3
import pytest
import requests

from tests.s3_gate import S3Gate, server_received_bytes

from .conftest import FIVE_MIB, finalize, init_session, make_parts, send_chunk, sha


@pytest.fixture
def gate(moto_endpoint):
    g = S3Gate(moto_endpoint).start()
    yield g
    g.stop()


def received_bytes(s) -> dict[str, float]:
    return server_received_bytes(s.thread.app)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def ask_url(s, sid: str, index: int, data: bytes, *, md5: str | None = None) -> requests.Response:
    return requests.post(f"{s.api_url}/videos/{sid}/parts/{index}/url", headers=s.headers(), timeout=30,
                         json={"size": len(data), "md5": md5 or md5_hex(data)})


def put(target: dict, data: bytes) -> requests.Response:
    headers = dict(target["headers"])
    headers["Content-MD5"] = base64.b64encode(hashlib.md5(data).digest()).decode()  # the bytes actually sent
    return requests.put(target["url"], data=data, headers=headers, timeout=60)


def complete(s, sid: str, index: int, data: bytes, **override) -> requests.Response:
    body = {"size": len(data), "md5": md5_hex(data), "sha256": sha(data),
            "head": base64.b64encode(data[:16]).decode(), **override}
    return requests.post(f"{s.api_url}/videos/{sid}/parts/{index}/complete", headers=s.headers(), json=body,
                         timeout=30)


def direct_part(s, sid: str, index: int, data: bytes) -> None:
    r = ask_url(s, sid, index, data)
    assert r.status_code == 200, r.text
    target = r.json()
    assert target["method"] == "PUT" and target["partNumber"] == index + 1
    assert target["headers"]["Content-MD5"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert put(target, data).status_code == 200
    r = complete(s, sid, index, data)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": True, "chunkIndex": index, "sha256": sha(data), "size": len(data)}


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_parts_go_straight_to_s3_and_the_server_never_sees_them(make_server, gate, database):
    s = make_server("s3", database=database, s3_endpoint_url=gate.url, direct_part_url_expiry=120)
    r = requests.post(f"{s.api_url}/videos/init", headers=s.headers(), timeout=30,
                      json={"filename": "rec.webm", "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 1,
                            "resolution": "64x64"})
    assert r.status_code == 200 and r.json()["directParts"] is True
    sid = r.json()["sessionId"]
    parts = make_parts([FIVE_MIB, FIVE_MIB, 123_457])
    for index in (2, 1, 0):  # part 0 last, as a recording sends it
        direct_part(s, sid, index, parts[index])
    st = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10).json()
    assert [(p["chunkIndex"], p["size"], p["sha256"]) for p in st["parts"]] == \
        [(i, len(p), sha(p)) for i, p in enumerate(parts)]
    whole = b"".join(parts)
    r = finalize(s, sid, 3, sha256=sha(whole))
    assert r.status_code == 200, r.text
    obj = boto3.client("s3", endpoint_url=gate.url, region_name="us-east-1").get_object(
        Bucket=s.thread.config.s3_bucket, Key=r.json()["key"])
    assert hashlib.sha256(obj["Body"].read()).hexdigest() == sha(whole)
    got = received_bytes(s)
    assert sum(got.values()) < 8 * 1024, got  # JSON only: ~10.5 MiB of parts went to S3, not through the server
    assert "/api/v1/videos/chunk" not in got and gate.puts == 3


def test_a_part_whose_size_or_md5_does_not_match_is_refused_at_count_time(make_server, gate):
    s = make_server("s3", s3_endpoint_url=gate.url)
    sid = init_session(s)
    data = make_parts([2000])[0]
    target = ask_url(s, sid, 0, data).json()
    longer = data + b"!"
    assert put(target, longer).status_code == 200  # S3 holds 2001 bytes; the client says 2000
    r = complete(s, sid, 0, data)
    assert r.status_code == 422 and r.json()["error"] == "size_mismatch", r.text
    assert "2001" in r.json()["message"] and r.json()["actual"] == 2001
    other = bytes([data[0]]) + bytes(b ^ 1 for b in data[1:])  # same size, other bytes
    assert put(target, other).status_code == 200
    r = complete(s, sid, 0, data)
    assert r.status_code == 422 and r.json()["error"] == "checksum_mismatch", r.text
    assert r.json()["actual"] == md5_hex(other) and r.json()["expected"] == md5_hex(data)
    assert s.db.query("SELECT idx FROM parts WHERE session_id = ?", (sid,)) == []  # nothing counted
    r = complete(s, sid, 1, data)  # nothing PUT at index 1
    assert r.status_code == 409 and r.json()["error"] == "part_not_uploaded" and r.json()["missing"] == [1]
    assert put(target, data).status_code == 200  # sent again, right this time
    assert complete(s, sid, 0, data).status_code == 200
    assert finalize(s, sid, 1, sha256=sha(data)).status_code == 200
    # asking for a URL forgets a counted part: the PUT will replace it in S3
    sid2 = init_session(s)
    assert send_chunk(s, sid2, 0, data, sha256=sha(data)).status_code == 200
    assert ask_url(s, sid2, 0, data).status_code == 200
    assert s.db.query("SELECT idx FROM parts WHERE session_id = ?", (sid2,)) == []


def test_bad_requests_name_what_is_wrong(make_server, gate):
    s = make_server("s3", s3_endpoint_url=gate.url, max_part_size=FIVE_MIB + 10)
    sid = init_session(s)
    data = make_parts([100])[0]
    cases = [({"size": 0, "md5": md5_hex(data)}, 422, "size"), ({"size": 100, "md5": "XYZ"}, 422, "md5"),
             ({"size": 100}, 422, "md5"), ({"size": FIVE_MIB + 11, "md5": md5_hex(data)}, 413, "size")]
    for body, status, field in cases:
        r = requests.post(f"{s.api_url}/videos/{sid}/parts/0/url", headers=s.headers(), json=body, timeout=10)
        assert r.status_code == status and field in r.json()["message"], (body, r.text)
    r = requests.post(f"{s.api_url}/videos/{sid}/parts/x/url", headers=s.headers(), timeout=10,
                      json={"size": 100, "md5": md5_hex(data)})
    assert r.status_code == 422 and "chunkIndex" in r.json()["message"]
    r = requests.post(f"{s.api_url}/videos/nope/parts/0/url", headers=s.headers(), timeout=10,
                      json={"size": 100, "md5": md5_hex(data)})
    assert r.status_code == 404 and r.json()["error"] == "session_not_found"
    other = s.add_user("bob")
    r = requests.post(f"{s.api_url}/videos/{sid}/parts/0/url", headers=s.headers(other), timeout=10,
                      json={"size": 100, "md5": md5_hex(data)})
    assert r.status_code == 404  # another user's session does not exist for bob
    r = complete(s, sid, 0, data, head=None)
    assert r.status_code == 422 and "head" in r.json()["message"]
    r = complete(s, sid, 0, data, sha256="abc")
    assert r.status_code == 422 and "sha256" in r.json()["message"]


def test_an_expired_url_is_refused_by_the_storage(make_server, gate):
    s = make_server("s3", s3_endpoint_url=gate.url, direct_part_url_expiry=60)
    sid = init_session(s)
    data = make_parts([1000])[0]
    target = ask_url(s, sid, 0, data).json()
    assert target["expiresIn"] == 60
    gate.advance(61)
    r = put(target, data)
    assert r.status_code == 403 and b"expired" in r.content
    assert complete(s, sid, 0, data).json()["error"] == "part_not_uploaded"


@pytest.mark.parametrize("where", ["local", "s3-off"])
def test_not_offered_with_local_storage_or_when_turned_off(make_server, moto_endpoint, where):
    s = make_server("local") if where == "local" else make_server("s3", direct_parts=False)
    r = requests.post(f"{s.api_url}/videos/init", headers=s.headers(), timeout=30,
                      json={"filename": "rec.webm", "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 1,
                            "resolution": "64x64"})
    assert "directParts" not in r.json()
    sid = r.json()["sessionId"]
    data = make_parts([1000])[0]
    r = ask_url(s, sid, 0, data)
    assert r.status_code == 501 and r.json()["error"] == "direct_parts_not_offered"
    assert "/videos/chunk" in r.json()["message"]
    assert complete(s, sid, 0, data).status_code == 501


def test_url_from_one_instance_and_count_on_another(make_server, gate):
    """Two instances on one PostgreSQL database and one bucket (no sticky sessions): a part's URL comes from one,
    its count from the other, finalize from either."""
    a = make_server("s3", database="postgres", s3_endpoint_url=gate.url, s3_bucket="snaplark-shared-direct")
    b = make_server("s3", database="postgres", s3_endpoint_url=gate.url, s3_bucket="snaplark-shared-direct")
    sid = init_session(a)
    parts = make_parts([FIVE_MIB, 4321])
    for index, (asker, counter) in ((1, (a, b)), (0, (b, a))):
        target = ask_url(asker, sid, index, parts[index]).json()
        assert put(target, parts[index]).status_code == 200
        r = complete(counter, sid, index, parts[index])
        assert r.status_code == 200, r.text
    whole = b"".join(parts)
    r = finalize(b, sid, 2, sha256=sha(whole))
    assert r.status_code == 200, r.text
    assert finalize(a, sid, 2, sha256=sha(whole)).json()["key"] == r.json()["key"]
    assert sum(received_bytes(a).values()) + sum(received_bytes(b).values()) < 8 * 1024
