"""Share pages (issue 15): ``/v/<id>`` and ``/s/<id>`` over real HTTP against the real server (local disk and S3 on
moto), with real videos written by PyAV (WebM/VP9 and fragmented MP4/H.264 like the recorder's: a black first
second, then a picture; a keyframe every second) and a real PNG.

What is checked: the page itself (player, poster, title, duration, size, download), the OpenGraph / Twitter /
oEmbed previews parsed with ``html.parser`` (absolute URLs, right types and sizes), the poster (the first frame
that is not blank), the safety headers of raw files and pages, 304 on ``If-None-Match``, that ``Host:
evil.example`` never comes back in any URL, delete (-> 410 everywhere, storage emptied, quota freed) and trim
(frame-accurate cut reported, same URL serves the shorter video, new ETag and poster)."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.server.conftest import RunningTestServer

SIZE = (320, 180)
FPS = 30
SECONDS = 4
BLACK_SECONDS = 1.0


def make_video(path: Path, seconds: float = SECONDS) -> Path:
    """A real video: black for BLACK_SECONDS (a blank start the poster must skip), then a gradient with a bar
    moving across it; a keyframe every second (gop = FPS)."""
    import numpy as np

    from tests.video_clips import FRAGMENTED_MP4, write_clip

    w, h = SIZE
    gradient = np.zeros((h, w, 3), np.uint8)
    gradient[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    gradient[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]

    def pictures():
        for n in range(int(seconds * FPS)):
            if n < BLACK_SECONDS * FPS:
                yield np.zeros((h, w, 3), np.uint8)
            else:
                img = gradient.copy()
                x = (n * 5) % (w - 20)
                img[h // 2:, x:x + 20] = (255, 255, 0)
                yield img

    if path.suffix == ".mp4":
        return write_clip(path, pictures(), FPS, codec="libx264", container_options=FRAGMENTED_MP4, gop=FPS,
                          options={"preset": "ultrafast", "bf": "0"})
    return write_clip(path, pictures(), FPS, gop=FPS, options={"deadline": "realtime", "cpu-used": "8"})


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("videos")
    return {ext: make_video(d / f"clip.{ext}").read_bytes() for ext in ("webm", "mp4")}


def png_bytes(size=(200, 120)) -> bytes:
    from PIL import Image

    im = Image.new("RGB", size, (30, 144, 255))
    for x in range(0, size[0], 10):
        im.putpixel((x, 5), (255, 255, 255))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def upload_video(s: RunningTestServer, data: bytes, ext: str, token: str | None = None,
                 headers: dict | None = None, measured: bool = True) -> dict:
    """Upload through the API; ``measured``: then wait for the background job that makes the duration and poster
    (media_jobs.py) -- finalize answers before it has run."""
    codec = {"webm": "vp9", "mp4": "h264"}[ext]
    init = {"filename": f"recording-1.{ext}", "timestamp": 1, "fps": FPS, "codec": codec, "bitrate": 1,
            "resolution": f"{SIZE[0]}x{SIZE[1]}"}
    h = {**s.headers(token), **(headers or {})}
    sid = requests.post(f"{s.api_url}/videos/init", json=init, headers=h, timeout=30).json()["sessionId"]
    r = requests.post(f"{s.api_url}/videos/chunk", data={"sessionId": sid, "chunkIndex": "0"},
                      files={"chunk": (f"chunk_0.{ext}", data)}, headers=h, timeout=60)
    assert r.status_code == 200, r.text
    r = requests.post(f"{s.api_url}/videos/finalize", headers=h, timeout=120,
                      json={"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0], "duration": SECONDS})
    assert r.status_code == 200, r.text
    if measured:
        assert s.thread.app.state.media_jobs.wait_idle(120), "the video was not measured within 120 s"
    return r.json()


def upload_png(s: RunningTestServer, data: bytes, headers: dict | None = None) -> dict:
    r = requests.post(f"{s.api_url}/screenshots/upload", files={"file": ("screenshot-1.png", data, "image/png")},
                      headers={**s.headers(), **(headers or {})}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


class HeadParser(HTMLParser):
    """meta property/name -> content, link rel -> attributes, plus the tags and attributes of the body."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, dict] = {}
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        if tag == "link" and "rel" in a:
            self.links[a["rel"] + ("" if a["rel"] != "alternate" else ":" + a.get("type", ""))] = a

    def first(self, tag: str) -> dict | None:
        return next((a for t, a in self.tags if t == tag), None)


def parse(html: str) -> HeadParser:
    p = HeadParser()
    p.feed(html)
    return p


def is_absolute(url: str, base: str) -> bool:
    return url.startswith(base + "/")


def luma_stddev(jpeg: bytes) -> float:
    import numpy as np
    from PIL import Image

    return float(np.std(np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"))))


def probe_duration(data: bytes) -> float:
    from snaplark_server.media import probe

    return probe(io.BytesIO(data)).duration


# --- pages and previews -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["webm", "mp4"])
def test_video_page_previews_and_poster(srv, videos, ext):
    answer = upload_video(srv, videos[ext], ext)
    base = srv.url
    vid = answer["key"].rsplit("/", 1)[1].split(".")[0]
    assert answer["pageUrl"] == f"{base}/v/{vid}"
    if srv.backend == "local":
        assert answer["url"] == f"{base}/v/{vid}.{ext}"  # the raw file, exactly as before

    page = requests.get(answer["pageUrl"], timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    doc = parse(page.text)
    video = doc.first("video")
    source = doc.first("source")
    assert video is not None and "controls" in video and source["type"] == f"video/{ext}"
    assert requests.get(base + source["src"], timeout=30).content == videos[ext]  # the player plays the file
    assert "<script" not in page.text.lower()  # works with JS off; CSP forbids scripts anyway
    assert doc.first("title") is not None and re.search(r"<h1>Recording \d{4}-\d\d-\d\d \d\d:\d\d UTC</h1>", page.text)
    assert re.search(r'class="duration">0:0[34]<', page.text)  # 4 s, measured from the packets
    assert f'{SIZE[0]}&times;{SIZE[1]}' in page.text
    download = next(a for t, a in doc.tags if t == "a" and a.get("class") == "download")
    d = requests.get(base + download["href"], timeout=30)
    assert d.content == videos[ext] and d.headers["content-disposition"].startswith("attachment;")

    m = doc.meta
    assert m["og:type"] == "video.other" and m["og:url"] == answer["pageUrl"] and m["og:title"].startswith("Recording")
    assert m["og:video"] == answer["url"] and m["og:video:type"] == f"video/{ext}"
    assert (m["og:video:width"], m["og:video:height"]) == (str(SIZE[0]), str(SIZE[1]))
    assert is_absolute(m["og:image"], base) and m["og:image"] == f"{base}/v/{vid}.jpg"
    assert (m["og:image:width"], m["og:image:height"]) == (str(SIZE[0]), str(SIZE[1]))
    assert m["twitter:card"] == "player" and m["twitter:player"] == f"{base}/v/{vid}/embed"
    assert m["twitter:player:stream"] == answer["url"] and m["twitter:image"] == m["og:image"]
    assert m["twitter:player:stream:content_type"] == f"video/{ext}"

    poster = requests.get(m["og:image"], timeout=30)
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert poster.content[:3] == b"\xff\xd8\xff"
    assert luma_stddev(poster.content) > 20  # the picture after the black second, not the blank first frame
    assert video["poster"] == f"/v/{vid}.jpg"
    embed = requests.get(m["twitter:player"], timeout=30)
    assert embed.status_code == 200 and parse(embed.text).first("source")["src"] == source["src"]
    assert "frame-ancestors *" in embed.headers["content-security-policy"]

    oembed_link = doc.links["alternate:application/json+oembed"]["href"]
    assert is_absolute(oembed_link, base)
    assert parse_qs(urlsplit(oembed_link).query) == {"url": [answer["pageUrl"]], "format": ["json"]}
    o = requests.get(oembed_link, timeout=30)
    assert o.status_code == 200 and o.headers["content-type"] == "application/json"
    o = o.json()
    assert o["version"] == "1.0" and o["type"] == "video" and (o["width"], o["height"]) == SIZE
    assert f'src="{base}/v/{vid}/embed"' in o["html"] and o["thumbnail_url"] == m["og:image"]
    small = requests.get(f"{base}/oembed", params={"url": answer["pageUrl"], "maxwidth": "160"}, timeout=30).json()
    assert (small["width"], small["height"]) == (160, 90)


def test_screenshot_page_and_previews(srv):
    data = png_bytes()
    answer = upload_png(srv, data)
    base = srv.url
    sid = answer["url"].rsplit("/", 1)[1].split(".")[0]
    assert answer["pageUrl"] == f"{base}/s/{sid}"
    page = requests.get(answer["pageUrl"], timeout=30)
    assert page.status_code == 200
    doc = parse(page.text)
    img = doc.first("img")
    assert img["src"] == f"/s/{sid}.png" and (img["width"], img["height"]) == ("200", "120")
    assert requests.get(base + img["src"], timeout=30).content == data
    assert doc.first("input")["type"] == "checkbox"  # click to zoom without script
    m = doc.meta
    assert m["og:image"] == answer["url"] and m["og:image:type"] == "image/png"
    assert (m["og:image:width"], m["og:image:height"]) == ("200", "120")
    assert m["og:url"] == answer["pageUrl"] and m["twitter:card"] == "summary_large_image"
    assert m["twitter:image"] == answer["url"]
    o = requests.get(doc.links["alternate:application/json+oembed"]["href"], timeout=30).json()
    assert o["type"] == "photo" and o["url"] == answer["url"] and (o["width"], o["height"]) == (200, 120)


def test_unknown_pages_and_oembed_urls(local_srv):
    assert requests.get(f"{local_srv.url}/v/nosuchvideo", timeout=10).status_code == 404
    assert requests.get(f"{local_srv.url}/s/nosuchshot", timeout=10).status_code == 404
    for url in ("https://elsewhere.example/x", f"{local_srv.url}/v/nosuch", ""):
        assert requests.get(f"{local_srv.url}/oembed", params={"url": url}, timeout=10).status_code == 404
    assert requests.get(f"{local_srv.url}/oembed", params={"url": "x", "format": "xml"}, timeout=10).status_code == 501


# --- headers ------------------------------------------------------------------------------------------------


def test_raw_file_and_page_headers(local_srv, videos):
    answer = upload_video(local_srv, videos["webm"], "webm")
    raw = requests.get(answer["url"], timeout=30)
    h = raw.headers
    assert h["x-content-type-options"] == "nosniff" and h["content-security-policy"] == "sandbox"
    assert h["content-disposition"].startswith("inline; filename=\"recording-") and h["content-type"] == "video/webm"
    assert requests.get(answer["url"] + "?download=1", timeout=30).headers["content-disposition"].startswith(
        "attachment; filename=\"recording-")
    etag = h["etag"]
    again = requests.get(answer["url"], headers={"If-None-Match": etag}, timeout=30)
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert requests.get(answer["url"], headers={"If-None-Match": f'W/{etag}, "x"'}, timeout=30).status_code == 304
    assert requests.get(answer["url"], headers={"If-None-Match": '"other"'}, timeout=30).status_code == 200
    part = requests.get(answer["url"], headers={"Range": "bytes=10-19"}, timeout=30)
    assert part.status_code == 206 and part.content == videos["webm"][10:20]
    assert part.headers["x-content-type-options"] == "nosniff"
    poster = requests.get(answer["pageUrl"] + ".jpg", timeout=30)
    assert poster.headers["x-content-type-options"] == "nosniff" and poster.headers["content-security-policy"] == "sandbox"
    assert requests.get(answer["pageUrl"] + ".jpg", headers={"If-None-Match": poster.headers["etag"]},
                        timeout=30).status_code == 304

    page = requests.get(answer["pageUrl"], timeout=30)
    csp = page.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["default-src"] == ["'self'"] and directives["script-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"] and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    css = requests.get(local_srv.url + "/static/share.css", timeout=10)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_s3_public_base_url_in_page_and_csp(make_server, moto_endpoint, videos):
    bucket = "snaplark-share-public"
    s = make_server("s3", s3_bucket=bucket, public_base_url=f"{moto_endpoint}/{bucket}/")
    answer = upload_video(s, videos["mp4"], "mp4")
    assert answer["url"] == f"{moto_endpoint}/{bucket}/{answer['key']}"
    page = requests.get(answer["pageUrl"], timeout=30)
    doc = parse(page.text)
    assert doc.first("source")["src"] == answer["url"]
    poster = doc.meta["og:image"]
    assert poster == f"{moto_endpoint}/{bucket}/{answer['key'].rsplit('.', 1)[0]}.jpg"  # stored next to the video
    import boto3  # the bucket is private on moto: read the poster with the API

    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    obj = client.get_object(Bucket=bucket, Key=answer["key"].rsplit(".", 1)[0] + ".jpg")
    assert obj["ContentType"] == "image/jpeg" and obj["Body"].read()[:3] == b"\xff\xd8\xff"
    csp = page.headers["content-security-policy"]
    assert f"media-src 'self' {moto_endpoint}" in csp and f"img-src 'self' {moto_endpoint}" in csp


def all_urls(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>&]+", text)


def test_evil_host_never_in_a_returned_url(local_srv, videos):
    evil = {"Host": "evil.example"}
    answer = upload_video(local_srv, videos["webm"], "webm", headers=evil)
    shot = upload_png(local_srv, png_bytes(), headers=evil)
    replies = [json.dumps(answer), json.dumps(shot)]
    assert "evil.example" not in replies[0] + replies[1]  # the upload answers' links (the audit's finding)
    for url in (answer["pageUrl"], shot["pageUrl"], answer["pageUrl"] + "/embed"):
        replies.append(requests.get(url, headers=evil, timeout=30).text)
    for page in (answer["pageUrl"], shot["pageUrl"]):
        replies.append(requests.get(f"{local_srv.url}/oembed", params={"url": page}, headers=evil, timeout=30).text)
    replies.append(requests.get(f"{local_srv.url}/oembed", params={"url": "http://evil.example/v/" +
                                answer["pageUrl"].rsplit("/", 1)[1]}, headers=evil, timeout=30).text)
    for text in replies:
        assert "evil.example" not in text, text
        urls = all_urls(text)
        assert all(u.startswith(f"http://127.0.0.1:{local_srv.thread.port}/") for u in urls), urls
    assert answer["url"].startswith(f"http://127.0.0.1:{local_srv.thread.port}/v/")
    # an allowed name keeps the Host the client used (a reverse proxy with Host $http_host on this machine)
    ok = upload_png(local_srv, png_bytes(), headers={"Host": f"localhost:{local_srv.thread.port}"})
    assert ok["url"].startswith(f"http://localhost:{local_srv.thread.port}/s/")


def test_allowed_hosts_and_site_url(make_server, videos):
    s = make_server("local", allowed_hosts=["snaplark.example", "*.cdn.example"])
    shot = upload_png(s, png_bytes(), headers={"Host": "snaplark.example:8443"})
    assert shot["pageUrl"].startswith("http://snaplark.example:8443/s/")
    shot = upload_png(s, png_bytes(), headers={"Host": "a.cdn.example"})
    assert shot["pageUrl"].startswith("http://a.cdn.example/s/")
    shot = upload_png(s, png_bytes(), headers={"Host": "evil.example"})  # fallback: the first allowed host
    assert shot["pageUrl"].startswith(f"http://snaplark.example:{s.thread.port}/s/")
    shot = upload_png(s, png_bytes(), headers={"Host": "127.0.0.1"})  # not in this server's list
    assert "127.0.0.1" not in json.dumps(shot)
    site = make_server("local", site_url="https://share.example/snap/")
    answer = upload_video(site, videos["webm"], "webm", headers={"Host": "evil.example"})
    assert answer["pageUrl"].startswith("https://share.example/snap/v/")
    assert answer["url"].startswith("https://share.example/snap/v/") and answer["url"].endswith(".webm")
    page = requests.get(f"{site.url}/v/{answer['pageUrl'].rsplit('/', 1)[1]}", timeout=30).text
    assert "evil.example" not in page and 'content="https://share.example/snap/v/' in page


# --- owner actions ------------------------------------------------------------------------------------------


def test_delete_answers_410_everywhere(srv, videos):
    answer = upload_video(srv, videos["mp4"], "mp4")
    shot = upload_png(srv, png_bytes())
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    shot_id = shot["pageUrl"].rsplit("/", 1)[1]
    bob = srv.add_user("bob")
    api = f"{srv.api_url}/objects"
    assert requests.delete(f"{api}/{vid}", timeout=10).status_code == 401
    r = requests.delete(f"{api}/{vid}", headers=srv.headers(bob), timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "object_not_found"  # someone else's: as if none
    assert requests.get(answer["url"], timeout=10).status_code == 200
    from snaplark_server.quotas import user_usage

    before = user_usage(srv.db, 1, 0).object_bytes
    deleted_at = {}
    for object_id in (vid, shot_id):
        r = requests.delete(f"{api}/{object_id}", headers=srv.headers(), timeout=30)
        assert r.status_code == 200 and r.json()["deleted"] is True and r.json()["id"] == object_id
        deleted_at[object_id] = r.json()["deletedAt"]
    repeat = requests.delete(f"{api}/{vid}", headers=srv.headers(), timeout=30)  # deleted already: 410 says so
    assert repeat.status_code == 410 and repeat.json()["error"] == "gone", repeat.text
    assert "deleted already" in repeat.json()["message"] and repeat.json()["deletedAt"] == deleted_at[vid]
    for url in (answer["pageUrl"], answer["url"], answer["pageUrl"] + ".jpg", shot["pageUrl"], shot["url"],
                answer["pageUrl"] + "/embed"):
        assert requests.get(url, timeout=10).status_code == 410, url
        assert requests.head(url, timeout=10).status_code in (405, 410), url
    assert requests.get(f"{srv.url}/oembed", params={"url": answer["pageUrl"]}, timeout=10).status_code == 410
    assert user_usage(srv.db, 1, 0).object_bytes == before - len(videos["mp4"]) - len(png_bytes())
    row = srv.db.query_one("SELECT deleted_at, object_key, poster_key FROM objects WHERE id = ?", (vid,))
    assert row["deleted_at"] is not None  # the tombstone stays
    if srv.backend == "local":
        objects = srv.data_dir / "objects"
        assert not (objects / row["object_key"]).exists() and not (objects / (row["object_key"] + ".parts")).exists()
        assert not (objects / row["poster_key"]).exists()
    else:
        import boto3

        client = boto3.client("s3", endpoint_url=srv.thread.config.s3_endpoint_url, region_name="us-east-1")
        for key in (row["object_key"], row["poster_key"]):
            with pytest.raises(client.exceptions.ClientError):
                client.head_object(Bucket=srv.thread.config.s3_bucket, Key=key)
    r = requests.post(f"{srv.api_url}/videos/{vid}/trim", json={"start": 0, "end": 1}, headers=srv.headers(),
                      timeout=30)
    assert r.status_code == 410


@pytest.mark.parametrize("ext", ["webm", "mp4"])
def test_trim_cuts_at_the_frame_and_serves_the_same_links(srv, videos, ext):
    answer = upload_video(srv, videos[ext], ext)
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    old = requests.get(answer["url"], timeout=30)
    old_poster = requests.get(answer["pageUrl"] + ".jpg", timeout=30).content
    bob = srv.add_user("bob")
    url = f"{srv.api_url}/videos/{vid}/trim"
    assert requests.post(url, json={"start": 2.4, "end": 3.6}, headers=srv.headers(bob), timeout=30).status_code == 404
    assert requests.post(url, json={"start": 3, "end": 1}, headers=srv.headers(), timeout=30).status_code == 422
    assert requests.post(url, json={"start": "a"}, headers=srv.headers(), timeout=30).status_code == 422
    r = requests.post(url, json={"start": 2.4, "end": 3.6}, headers=srv.headers(), timeout=120)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["requested"] == {"start": 2.4, "end": 3.6}
    assert t["start"] == pytest.approx(2.4, abs=0.5 / FPS)  # frame-accurate (test_trim_exact.py looks closer)
    assert (t["method"], t["reencodedUntil"], t["keyframeCut"]) == ("edge", 3.0, False)  # keyframes every second
    assert t["end"] == pytest.approx(3.6, abs=1.5 / FPS)  # the end is cut at a frame
    assert t["duration"] == pytest.approx(t["end"] - t["start"], abs=1.5 / FPS)
    assert t["url"] == answer["url"] and t["pageUrl"] == answer["pageUrl"]
    new = requests.get(answer["url"], timeout=30)
    assert new.status_code == 200 and new.content != old.content and new.headers["etag"] != old.headers["etag"]
    assert requests.get(answer["url"], headers={"If-None-Match": old.headers["etag"]}, timeout=30).status_code == 200
    assert probe_duration(new.content) == pytest.approx(t["end"] - t["start"], abs=1.5 / FPS)
    assert new.headers["content-type"] == f"video/{ext}"
    page = requests.get(answer["pageUrl"], timeout=30).text
    assert 'class="duration">0:01<' in page  # 1.2 s
    poster = requests.get(answer["pageUrl"] + ".jpg", timeout=30).content
    assert poster != old_poster and luma_stddev(poster) > 20
