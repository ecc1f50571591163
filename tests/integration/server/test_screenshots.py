"""POST /screenshots/upload and GET /s/<id>.<ext>, both backends."""

from __future__ import annotations

import hashlib
import io

import requests
from PIL import Image

from .conftest import sha, stored_files


def png_bytes(w: int = 64, h: int = 48, color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 90, 200)).save(buf, "JPEG")
    return buf.getvalue()


def upload(s, data: bytes, filename: str = "screenshot-1700000000000.png", ctype: str = "image/png", field="file",
           extra=None):
    return requests.post(f"{s.api_url}/screenshots/upload", files={field: (filename, data, ctype)}, data=extra or {},
                         headers=s.headers(), timeout=30)


def test_png_upload_served_identically(srv):
    data = png_bytes()
    r = upload(srv, data)
    assert r.status_code == 200, r.text
    url = r.json()["url"]
    assert list(r.json()) == ["url", "pageUrl"] and url.endswith(".png")  # pageUrl: extension (the share page)
    assert r.json()["pageUrl"] == url[:-len(".png")]
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png" and sha(got.content) == sha(data)
    part = requests.get(url, headers={"Range": "bytes=0-7"}, timeout=10)
    assert part.status_code == 206 and part.content == data[:8]


def test_jpeg_upload(srv):
    data = jpeg_bytes()
    r = upload(srv, data, "shot.jpg", "image/jpeg")
    assert r.status_code == 200 and r.json()["url"].endswith(".jpg")
    assert requests.get(r.json()["url"], timeout=10).content == data


def test_client_filename_is_never_a_path(srv):
    before = stored_files(srv)
    r = upload(srv, png_bytes(), filename="../../../../etc/evil.png")
    assert r.status_code == 200
    assert "evil" not in r.json()["url"] and ".." not in r.json()["url"]
    new = set(stored_files(srv)) - set(before)
    assert all(srv.data_dir in p.parents for p in new)
    assert not any("evil" in str(p) for p in srv.data_dir.rglob("*"))


def test_not_an_image_is_415_and_nothing_stored(srv):
    before = stored_files(srv)
    r = upload(srv, b"%PDF-1.4 not what we take" * 10, "x.png")
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    r = upload(srv, b"GIF89a but no picture" * 10, "x.gif")  # GIF clips are taken, broken ones are not
    assert r.status_code == 422 and r.json()["error"] == "invalid_image" and "GIF" in r.json()["message"]
    r = upload(srv, b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50)
    assert r.status_code == 422 and r.json()["error"] == "invalid_image"
    r = upload(srv, png_bytes()[:40])  # truncated PNG
    assert r.status_code == 422 and r.json()["error"] == "invalid_image"
    r = upload(srv, b"")
    assert r.status_code == 422
    r = upload(srv, png_bytes(), field="image")  # wrong field name
    assert r.status_code == 422
    r = upload(srv, png_bytes(), extra={"note": "hi"})  # extra field
    assert r.status_code == 422
    r = requests.post(f"{srv.api_url}/screenshots/upload", data=png_bytes(),
                      headers={**srv.headers(), "Content-Type": "image/png"}, timeout=10)
    assert r.status_code == 415
    assert stored_files(srv) == before


def test_screenshot_size_limit_413(make_server, backend):
    s = make_server(backend, max_screenshot_size=20_000)
    before = stored_files(s)
    noise = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(938))[:30000]
    noisy = Image.frombytes("RGB", (100, 100), noise)
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    big = buf.getvalue()
    assert len(big) > 20_000
    r = upload(s, big)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert stored_files(s) == before
    assert upload(s, png_bytes()).status_code == 200


def test_a_huge_image_in_a_small_file_is_refused_naming_the_limit(local_srv):
    """Issue 16: a 12000x12000 PNG is ~420 KB but 144 megapixels: refused (422) before it is decoded, nothing
    stored; the limit (max_image_pixels, default 100 MP) is named."""
    import struct
    import zlib

    width = height = 12000
    row = b"\x00" + b"\x00" * (width * 3)  # filter byte + black RGB pixels: compresses to almost nothing
    z = zlib.compressobj(9)
    raw = b"".join(z.compress(row) for _ in range(height)) + z.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    assert len(png) < 1_000_000
    before = stored_files(local_srv)
    r = upload(local_srv, png)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "image_too_large" and "12000x12000" in body["message"] and "100 megapixels" in body["message"]
    assert stored_files(local_srv) == before
    assert upload(local_srv, png_bytes(4000, 3000)).status_code == 200  # 12 MP: fine
