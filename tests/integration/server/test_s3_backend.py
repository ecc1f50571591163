"""S3-specific behaviour against moto's ThreadedMotoServer (real HTTP S3): part numbers, public URL base,
transient S3 failures -> 503 (retryable), the 5 MiB minimum."""

from __future__ import annotations

import hashlib

import boto3
import pytest
import requests

from snaplark_server.config import MiB, ServerConfig

from .conftest import FIVE_MIB, finalize, init_session, make_parts, send_chunk, sha


def s3_client(s):
    return boto3.client("s3", endpoint_url=s.thread.config.s3_endpoint_url, region_name="us-east-1")


def test_chunk_index_maps_to_part_number_plus_one(make_server):
    s = make_server("s3")
    sid = init_session(s)
    parts = make_parts([FIVE_MIB, 100, 2000])
    assert send_chunk(s, sid, 0, parts[0]).status_code == 200
    assert send_chunk(s, sid, 2, parts[2]).status_code == 200
    row = s.db.query_one("SELECT upload_id, object_key FROM sessions WHERE id = ?", (sid,))
    listed = s3_client(s).list_parts(Bucket=s.thread.config.s3_bucket, Key=row["object_key"],
                                     UploadId=row["upload_id"])["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, FIVE_MIB), (3, 2000)]
    assert listed[0]["ETag"].strip('"') == hashlib.md5(parts[0]).hexdigest()
    # the server's status is ListParts cross-checked with the sha256 kept in SQLite
    st = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10).json()
    assert [(p["chunkIndex"], p["sha256"]) for p in st["parts"]] == [(0, sha(parts[0])), (2, sha(parts[2]))]
    # a part aborted behind the server's back is not reported as held
    s3_client(s).abort_multipart_upload(Bucket=s.thread.config.s3_bucket, Key=row["object_key"],
                                        UploadId=row["upload_id"])
    r = requests.get(f"{s.api_url}/videos/{sid}/status", headers=s.headers(), timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "session_not_found"


def test_public_base_url(make_server, moto_endpoint):
    bucket = "snaplark-public-test"
    s = make_server("s3", s3_bucket=bucket, public_base_url=f"{moto_endpoint}/{bucket}/")
    sid = init_session(s)
    data = make_parts([3333])[0]
    assert send_chunk(s, sid, 0, data).status_code == 200
    r = finalize(s, sid, 1)
    assert r.status_code == 200
    key, url = r.json()["key"], r.json()["url"]
    assert url == f"{moto_endpoint}/{bucket}/{key}"
    obj = s3_client(s).get_object(Bucket=bucket, Key=key)
    assert obj["Body"].read() == data and obj["ContentType"] == "video/webm"


def test_min_part_size_is_never_below_s3_minimum(tmp_path):
    cfg = ServerConfig(data_dir=tmp_path, storage="s3", s3_bucket="b", min_part_size=1024)
    assert cfg.min_part_size == 5 * MiB


def test_s3_down_is_503_retryable(make_server, tmp_path):
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    s = make_server("s3", s3_endpoint_url=f"http://{host}:{port}", s3_max_attempts=1)
    sid = init_session(s)
    assert send_chunk(s, sid, 0, b"a" * 1000).status_code == 200
    moto.stop()
    r = send_chunk(s, sid, 1, b"b" * 1000)
    assert r.status_code == 503 and r.json()["error"] == "storage_unavailable"
    assert r.headers["retry-after"] == "5"
    assert s.db.query("SELECT idx FROM parts WHERE session_id = ? AND idx = 1", (sid,)) == []
    assert list((s.data_dir / "spool").iterdir()) == []


@pytest.mark.parametrize("backend", ["s3"])
def test_s3_screenshot_served_through_server(make_server, backend):
    from .test_screenshots import png_bytes

    s = make_server(backend)
    data = png_bytes()
    r = requests.post(f"{s.api_url}/screenshots/upload", files={"file": ("screenshot-1.png", data, "image/png")},
                      headers=s.headers(), timeout=10)
    assert r.status_code == 200 and r.json()["url"].startswith(s.url + "/s/")
    got = requests.get(r.json()["url"], headers={"Range": "bytes=1-3"}, timeout=10)
    assert got.status_code == 206 and got.content == data[1:4]


def test_a_part_for_an_upload_the_storage_lost_ends_the_session_so_the_client_starts_again(make_server,
                                                                                           moto_endpoint, request):
    """A bucket lifecycle rule (AbortIncompleteMultipartUpload) or an operator aborted the session's multipart upload:
    the next part got 500 for ever (MinIO/AWS answer UploadPart with NoSuchUpload). Now the session is gone (404,
    as /status says), which makes the client start the upload again, and nothing of it is left."""
    from tests.s3_gate import S3Gate

    gate = S3Gate(moto_endpoint, minio=True).start()
    request.addfinalizer(gate.stop)
    s = make_server("s3", s3_endpoint_url=gate.url)
    sid = init_session(s)
    parts = make_parts([FIVE_MIB, 100], seed=4)
    assert send_chunk(s, sid, 0, parts[0]).status_code == 200
    row = s.db.query_one("SELECT object_key, upload_id FROM sessions WHERE id = ?", (sid,))
    boto3.client("s3", endpoint_url=gate.url, region_name="us-east-1").abort_multipart_upload(
        Bucket=s.thread.config.s3_bucket, Key=row["object_key"], UploadId=row["upload_id"])
    r = send_chunk(s, sid, 1, parts[1])
    assert r.status_code == 404 and r.json()["error"] == "session_not_found", r.text
    assert s.db.query_one("SELECT COUNT(*) FROM sessions WHERE id = ?", (sid,))[0] == 0
    again = init_session(s)  # the client's fresh start goes through
    for i, data in enumerate(parts):
        assert send_chunk(s, again, i, data).status_code == 200
    done = finalize(s, again, 2, sha256=sha(b"".join(parts)))
    assert done.status_code == 200, done.text
