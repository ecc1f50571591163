"""Share pages and raw files attacked from outside (issue 15 audit): what a recipient's browser resuming a download,
a chat-app unfurler sending HEAD, and a hostile client sending odd headers or URLs get back, over real HTTP against
the real server (local disk and S3 on moto). Each test is a defect the outside audit found:

- ``If-Range`` was ignored: a download resumed with the ETag of a file since trimmed got a 206 of the new bytes
  (spliced onto the old ones); RFC 9110 13.1.5 wants the whole file (200) unless the strong ETag matches.
- ``If-Match`` (which an origin server must evaluate) was ignored: a stale tag got the file, not 412.
- ``Range: Bytes=0-9`` (the unit is case-insensitive, RFC 9110 14.1) was ignored.
- HEAD on the embed player, oEmbed, the stylesheet, favicon and the video placeholder (og:image) answered 405.
- ``/v/<id>/`` redirected to ``http://<the request's Host>/v/<id>``: ``Host: evil.example`` came back in Location.
- ``/oembed?url=http://[::1`` was a 500.
- A trim whose database update failed left the new bytes under the old size and ETag: every GET cut short.
- ``user_content_base_url`` with its default port (``http://files.example:80``): a browser's ``Host:
  files.example`` was not taken for that origin, and the file redirected to itself forever.
- A title with U+2028 / U+2029 (line and paragraph separators) was accepted although a title is one line.
"""

from __future__ import annotations

import http.client

import pytest
import requests

from tests.integration.server.conftest import webm_bytes
from tests.integration.server.test_share_pages import png_bytes, upload_png, upload_video


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=30, allow_redirects=False)


def test_if_range_sends_the_whole_file_unless_the_strong_etag_matches(srv):
    data = png_bytes((300, 200))
    url = upload_png(srv, data)["url"]
    etag = get(url).headers["etag"]
    same = get(url, Range="bytes=0-9", **{"If-Range": etag})
    assert same.status_code == 206 and same.content == data[:10]
    assert same.headers["content-range"] == f"bytes 0-9/{len(data)}"
    for validator in ('"an-older-version"', f"W/{etag}", "Wed, 21 Oct 2015 07:28:00 GMT"):
        whole = get(url, Range="bytes=0-9", **{"If-Range": validator})
        assert whole.status_code == 200, (validator, whole.status_code)
        assert whole.content == data and "content-range" not in whole.headers
    # an unsatisfiable range under a stale If-Range is not a 416 either: the whole (changed) file
    stale = get(url, Range=f"bytes={len(data) + 10}-", **{"If-Range": '"an-older-version"'})
    assert stale.status_code == 200 and stale.content == data
    upper = get(url, Range="Bytes=0-9")
    assert upper.status_code == 206 and upper.content == data[:10]


def test_head_is_answered_wherever_get_is(local_srv):
    shot = upload_png(local_srv, png_bytes())
    video = upload_video(local_srv, webm_bytes(4096), "webm", measured=False)  # the player needs no measuring
    base = local_srv.url
    sid = shot["pageUrl"].rsplit("/", 1)[1]
    vid = video["pageUrl"].rsplit("/", 1)[1]
    paths = [f"/v/{vid}/embed", f"/oembed?url={video['pageUrl']}", "/static/share.css", "/static/favicon.svg", "/favicon.ico", "/static/video-placeholder.png",
             f"/oembed?url={shot['pageUrl']}", f"/s/{sid}", f"/s/{sid}.png"]
    for path in paths:
        g = get(base + path)
        conn = http.client.HTTPConnection("127.0.0.1", local_srv.thread.port, timeout=30)
        try:
            conn.request("HEAD", path)
            h = conn.getresponse()
            body = h.read()
        finally:
            conn.close()
        assert (g.status_code, h.status) == (200, 200), path
        assert body == b"" and h.getheader("content-type") == g.headers["content-type"], path
        assert h.getheader("content-length") == str(len(g.content)), path


@pytest.mark.parametrize("path", ["/v/{vid}/", "/v/{vid}/embed/", "/s/{sid}/", "/oembed/?url=x"])
def test_trailing_slash_redirect_never_echoes_the_host(local_srv, path):
    shot = upload_png(local_srv, png_bytes())
    sid = shot["pageUrl"].rsplit("/", 1)[1]
    target = path.format(vid="abc", sid=sid)
    r = get(local_srv.url + target, Host="evil.example")
    assert r.status_code == 307, r.status_code
    own = f"http://127.0.0.1:{local_srv.thread.port}"
    assert "evil.example" not in r.headers["location"]
    assert r.headers["location"] == own + target.replace("/?", "?").rstrip("/")
    # an allowed Host is kept (a reverse proxy on this machine), and a path no route serves stays a 404
    mine = get(local_srv.url + target, Host=f"localhost:{local_srv.thread.port}")
    assert mine.headers["location"].startswith(f"http://localhost:{local_srv.thread.port}/")
    assert get(f"{local_srv.url}/no/such/thing/", Host="evil.example").status_code == 404


def test_oembed_with_a_malformed_url_is_a_clear_400(local_srv):
    for bad in ("http://[::1", "http://[zz]/v/abc"):
        r = requests.get(f"{local_srv.url}/oembed", params={"url": bad}, timeout=30)
        assert r.status_code == 400, (bad, r.status_code)
        assert r.json()["error"] == "invalid_request" and r.json()["message"].startswith("url: not a valid URL")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_a_title_with_a_line_separator_is_refused(local_srv, separator):
    shot = upload_png(local_srv, png_bytes())
    sid = shot["pageUrl"].rsplit("/", 1)[1]
    r = requests.patch(f"{local_srv.api_url}/objects/{sid}", json={"title": f"first{separator}second"},
                       headers=local_srv.headers(), timeout=30)
    assert r.status_code == 422, r.text
    assert f"character 6 is a" in r.json()["message"] and f"U+{ord(separator):04X}" in r.json()["message"]
    assert "first" not in requests.get(shot["pageUrl"], timeout=30).text


def test_if_match_with_another_etag_is_412(srv):
    data = png_bytes((120, 80))
    url = upload_png(srv, data)["url"]
    etag = get(url).headers["etag"]
    for ok in (etag, f'"other", {etag}', "*"):
        assert get(url, **{"If-Match": ok}).content == data, ok
    for stale in ('"an-older-version"', f"W/{etag}"):  # strong comparison: a weak tag never matches
        r = get(url, Range="bytes=0-9", **{"If-Match": stale})
        assert r.status_code == 412, (stale, r.status_code)
        assert r.json()["error"] == "precondition_failed" and r.headers["etag"] == etag


@pytest.fixture(scope="module")
def short_webm(tmp_path_factory) -> bytes:
    from tests.integration.server.test_share_pages import make_video

    return make_video(tmp_path_factory.mktemp("edges") / "clip.webm", seconds=2.5).read_bytes()


def test_a_trim_whose_database_update_fails_changes_nothing(make_server, backend, short_webm):
    """The trim stored the cut file first and then updated the row: when the update failed (here a trigger in the
    real SQLite file refuses it, as a full disk or a lost PostgreSQL would) the link kept the old size and ETag
    over the new bytes -- every GET cut short, the original gone."""
    import sqlite3

    s = make_server(backend, database="sqlite")
    answer = upload_video(s, short_webm, "webm")
    before = get(answer["url"])
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    trim = f"{s.api_url}/videos/{vid}/trim"
    with sqlite3.connect(s.db.path) as db:
        db.execute("CREATE TRIGGER refuse_trim BEFORE UPDATE OF version ON objects "
                   "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    r = requests.post(trim, json={"start": 1.2, "end": 2.0}, headers=s.headers(), timeout=120)
    assert r.status_code == 500, r.text
    after = get(answer["url"])  # requests checks the body against Content-Length
    assert after.content == short_webm and after.headers["etag"] == before.headers["etag"]
    with sqlite3.connect(s.db.path) as db:
        db.execute("DROP TRIGGER refuse_trim")
    r = requests.post(trim, json={"start": 1.2, "end": 2.0}, headers=s.headers(), timeout=120)
    assert r.status_code == 200, r.text
    cut = get(answer["url"])
    assert cut.headers["etag"] != before.headers["etag"] and len(cut.content) == r.json()["size"]
    assert cut.content != short_webm


def test_a_trim_on_s3_stores_its_bytes_without_stopping_the_server(make_server, moto_endpoint, short_webm):
    """The trim uploads the cut file to S3 before it takes the database's write lock: on SQLite that lock stops
    every query of the server (each authenticated request looks its token up), so an upload under it stalled the
    whole server for as long as S3 took. Here S3 is held mid-upload and the server must still answer; afterwards
    the link serves the cut file and nothing staged is left in the bucket."""
    import threading

    import boto3

    from tests.s3_gate import S3Gate

    gate = S3Gate(moto_endpoint).start()
    try:
        s = make_server("s3", database="sqlite", s3_endpoint_url=gate.url)
        answer = upload_video(s, short_webm, "webm")
        vid = answer["pageUrl"].rsplit("/", 1)[1]
        release = gate.hold_object_puts()
        result: dict = {}
        trim = threading.Thread(target=lambda: result.update(r=requests.post(
            f"{s.api_url}/videos/{vid}/trim", json={"start": 1.2, "end": 2.0}, headers=s.headers(), timeout=120)))
        trim.start()
        try:
            assert gate.object_put_held.wait(60), "the trim never stored its file"
            me = requests.get(f"{s.api_url}/me", headers=s.headers(), timeout=10)  # the old code: a timeout
            assert me.status_code == 200 and me.json() == {"user": "alice"}
        finally:
            release.set()
            trim.join(120)
        assert result["r"].status_code == 200, result["r"].text
        cut = get(answer["url"])
        assert cut.status_code == 200 and len(cut.content) == result["r"].json()["size"] and cut.content != short_webm
        client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=s.thread.config.s3_bucket).get("Contents", [])]
        assert any(vid in k for k in keys) and [k for k in keys if ".staged-" in k] == [], keys
    finally:
        gate.stop()


@pytest.mark.parametrize("configured, host", [("http://files.example:80", "files.example"),
                                              ("https://files.example:443/", "files.example"),
                                              ("http://files.example", "files.example:80")])
def test_user_content_origin_with_a_default_port_is_no_redirect_loop(make_server, configured, host):
    """``user_content_base_url`` written with its default port (or a client writing it): the request for a file
    on that origin was taken for one on the site and redirected to the very same URL, again and again."""
    s = make_server("local", site_url="http://site.example", user_content_base_url=configured)
    shot = upload_png(s, png_bytes())
    path = "/s/" + shot["url"].rsplit("/", 1)[1]
    r = get(s.url + path, Host=host)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", (r.status_code, r.headers)
    assert get(f"{s.url}/s/{shot['pageUrl'].rsplit('/', 1)[1]}", Host=host).status_code == 404  # no page there
