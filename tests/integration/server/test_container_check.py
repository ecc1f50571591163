"""Finalize checks the container signature of the video (issue 16, acceptance 5): a WebM/Matroska file starts with
the EBML magic 1A 45 DF A3, an MP4 with an 'ftyp' box at offset 4. Anything else is 422 invalid_container naming
what was found; the session stays open, so a right part 0 can still be sent."""

from __future__ import annotations

import requests

from .conftest import EBML_MAGIC, SEED_INIT, finalize, init_session, send_chunk
from .test_screenshots import png_bytes


def init_as(s, filename: str, codec: str) -> str:
    r = requests.post(f"{s.api_url}/videos/init", json={**SEED_INIT, "filename": filename, "codec": codec},
                      headers=s.headers(), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["sessionId"]


def test_random_bytes_are_not_a_video_and_a_right_part_zero_repairs_it(srv):
    sid = init_session(srv)
    assert send_chunk(srv, sid, 0, bytes.fromhex("00112233445566778899") * 100).status_code == 200
    r = finalize(srv, sid, 1)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_container" and body["expected"] == "webm"
    assert "WebM" in body["message"] and "00 11 22 33 44 55 66 77" in body["message"]
    assert srv.db.query_one("SELECT COUNT(*) FROM objects")[0] == 0
    good = EBML_MAGIC + b"\x9f" * 996
    assert send_chunk(srv, sid, 0, good).status_code == 200  # the session is still open
    r = finalize(srv, sid, 1)
    assert r.status_code == 200, r.text
    assert requests.get(r.json()["url"], timeout=10).content == good


def test_the_signature_must_match_the_declared_container(local_srv):
    s = local_srv
    mp4 = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 500
    sid = init_as(s, "clip.mp4", "h264")
    assert send_chunk(s, sid, 0, mp4).status_code == 200
    r = finalize(s, sid, 1)
    assert r.status_code == 200, r.text
    got = requests.get(r.json()["url"], timeout=10)
    assert got.headers["content-type"] == "video/mp4" and got.content == mp4

    for filename, codec, data, found in (("clip.mp4", "h264", EBML_MAGIC + b"\x00" * 100, "EBML"),
                                         ("rec.webm", "vp9", mp4, "ftyp"),
                                         ("rec.mkv", "vp9", png_bytes(), "PNG image")):
        sid = init_as(s, filename, codec)
        assert send_chunk(s, sid, 0, data).status_code == 200
        r = finalize(s, sid, 1)
        assert r.status_code == 422 and r.json()["error"] == "invalid_container", (filename, r.text)
        assert found in r.json()["found"] and found in r.json()["message"], r.json()
    mkv = init_as(s, "rec.mkv", "vp9")
    assert send_chunk(s, mkv, 0, EBML_MAGIC + b"\x42\x86" + b"\x00" * 50).status_code == 200
    assert finalize(s, mkv, 1).status_code == 200
