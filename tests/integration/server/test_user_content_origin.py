"""``user_content_base_url`` (issue 15): raw files are linked from a separate origin (another name for the same
server) -- upload answers, the page's player/image/poster/download, og:video/og:image, oEmbed -- and the pages'
CSP allows it; on that origin only files are served (pages and embeds: 404); a file asked for on the site's origin
is redirected there (307, query kept). Real server over HTTP; the two origins are two Host names of one listener."""

from __future__ import annotations

import pytest
import requests

from snaplark_server.config import ConfigError, ServerConfig
from tests.integration.server.test_share_pages import parse, png_bytes, upload_png, upload_video, videos  # noqa: F401

SITE = "http://site.example"
CONTENT = "http://usercontent.example"
ON_CONTENT = {"Host": "usercontent.example"}


def test_files_live_on_the_user_content_origin(make_server, videos):
    s = make_server("local", site_url=SITE, user_content_base_url=CONTENT + "/")
    answer = upload_video(s, videos["webm"], "webm")
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    assert answer["pageUrl"] == f"{SITE}/v/{vid}" and answer["url"] == f"{CONTENT}/v/{vid}.webm"

    page = requests.get(f"{s.url}/v/{vid}", timeout=30)
    assert page.status_code == 200
    doc = parse(page.text)
    assert doc.first("source")["src"] == answer["url"] and doc.first("video")["poster"] == f"{CONTENT}/v/{vid}.jpg"
    download = next(a for t, a in doc.tags if t == "a" and a.get("class") == "download")
    assert download["href"] == f"{CONTENT}/v/{vid}.webm?download=1"
    assert doc.meta["og:video"] == answer["url"] and doc.meta["og:image"] == f"{CONTENT}/v/{vid}.jpg"
    assert doc.meta["twitter:player"] == f"{SITE}/v/{vid}/embed"  # the player page stays on the site
    csp = page.headers["content-security-policy"]
    assert f"media-src 'self' {CONTENT};" in csp and f"img-src 'self' {CONTENT};" in csp

    raw = requests.get(f"{s.url}/v/{vid}.webm", headers=ON_CONTENT, timeout=30)
    assert raw.status_code == 200 and raw.content == videos["webm"]
    assert raw.headers["x-content-type-options"] == "nosniff" and raw.headers["content-security-policy"] == "sandbox"
    poster = requests.get(f"{s.url}/v/{vid}.jpg", headers=ON_CONTENT, timeout=30)
    assert poster.status_code == 200 and poster.content[:3] == b"\xff\xd8\xff"
    moved = requests.get(f"{s.url}/v/{vid}.webm?download=1", allow_redirects=False, timeout=30)
    assert moved.status_code == 307 and moved.headers["location"] == f"{CONTENT}/v/{vid}.webm?download=1"
    for path in (f"/v/{vid}", f"/v/{vid}/embed"):  # never a page on the user-content origin
        r = requests.get(s.url + path, headers=ON_CONTENT, timeout=30)
        assert r.status_code == 404 and "text/html" not in r.headers["content-type"], path

    shot = upload_png(s, png_bytes())
    sid = shot["pageUrl"].rsplit("/", 1)[1]
    assert shot["url"] == f"{CONTENT}/s/{sid}.png"
    doc = parse(requests.get(f"{s.url}/s/{sid}", timeout=30).text)
    assert doc.first("img")["src"] == shot["url"] and doc.meta["og:image"] == shot["url"]
    o = requests.get(f"{s.url}/oembed", params={"url": shot["pageUrl"]}, timeout=30).json()
    assert o["url"] == shot["url"]
    assert requests.get(f"{s.url}/s/{sid}.png", headers=ON_CONTENT, timeout=30).content == png_bytes()


def test_without_it_files_stay_on_the_site(local_srv, videos):
    answer = upload_video(local_srv, videos["webm"], "webm")
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    assert requests.get(answer["url"], allow_redirects=False, timeout=30).status_code == 200
    assert parse(requests.get(answer["pageUrl"], timeout=30).text).first("source")["src"] == f"/v/{vid}.webm"


def test_bad_user_content_base_url(tmp_path):
    with pytest.raises(ConfigError, match="user_content_base_url: expected http"):
        ServerConfig(data_dir=tmp_path, user_content_base_url="ftp://files.example")
