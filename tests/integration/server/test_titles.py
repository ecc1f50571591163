"""Owner-set titles (issue 15): ``PATCH /api/v1/objects/<id>`` ``{"title"}`` with the owner's token only; the page
(<title>, <h1>), og:title, twitter:title and oEmbed use it (escaped); bad titles are a 422 that says what is wrong;
null or "" removes it. Real server over HTTP, local disk and S3 on moto."""

from __future__ import annotations

import requests

from tests.integration.server.test_share_pages import parse, png_bytes, upload_png, upload_video, videos  # noqa: F401


def patch(s, object_id: str, body, token: str | None = None) -> requests.Response:
    return requests.patch(f"{s.api_url}/objects/{object_id}", json=body, headers=s.headers(token), timeout=30)


def test_owner_title_on_page_previews_and_oembed(srv, videos):
    answer = upload_video(srv, videos["webm"], "webm")
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    title = "  Sprint demo: <b>login</b> & “sign-up” — ünïcode 🎬  "
    r = patch(srv, vid, {"title": title})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": vid, "title": title.strip(), "displayTitle": title.strip(),
                        "pageUrl": answer["pageUrl"]}
    page = requests.get(answer["pageUrl"], timeout=30)
    doc = parse(page.text)
    assert "<b>login</b>" not in page.text  # escaped, never markup
    assert f"<h1>{title.strip().replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</h1>" in page.text
    assert doc.meta["og:title"] == title.strip() and doc.meta["twitter:title"] == title.strip()
    o = requests.get(f"{srv.url}/oembed", params={"url": answer["pageUrl"]}, timeout=30).json()
    assert o["title"] == title.strip() and "<b>" not in o["html"]
    embed = requests.get(answer["pageUrl"] + "/embed", timeout=30).text
    assert "<b>login</b>" not in embed

    shot = upload_png(srv, png_bytes())
    shot_id = shot["pageUrl"].rsplit("/", 1)[1]
    assert patch(srv, shot_id, {"title": "Bug 42"}).json()["title"] == "Bug 42"
    assert parse(requests.get(shot["pageUrl"], timeout=30).text).meta["og:title"] == "Bug 42"

    r = patch(srv, vid, {"title": None})  # removed: the date again
    assert r.status_code == 200 and r.json()["title"] is None and r.json()["displayTitle"].startswith("Recording ")
    assert parse(requests.get(answer["pageUrl"], timeout=30).text).meta["og:title"].startswith("Recording ")
    assert patch(srv, shot_id, {"title": "   "}).json()["title"] is None


def test_only_the_owner_and_clear_errors(local_srv):
    s = local_srv
    shot = upload_png(s, png_bytes())
    shot_id = shot["pageUrl"].rsplit("/", 1)[1]
    bob = s.add_user("bob")
    assert requests.patch(f"{s.api_url}/objects/{shot_id}", json={"title": "x"}, timeout=30).status_code == 401
    r = patch(s, shot_id, {"title": "mine now"}, token=bob)
    assert r.status_code == 404 and r.json()["error"] == "object_not_found"
    assert patch(s, "nosuchobject", {"title": "x"}).status_code == 404
    cases = [
        ({"title": "x" * 201}, "title: 201 characters; at most 200"),
        ({"title": "two\nlines"}, "title: character 4 is a control character (U+000A)"),
        ({"title": "evil\u202etxt.exe"}, "title: character 5 is an invisible formatting character (U+202E)"),
        ({"title": 42}, "title: expected a string (or null to remove the title), got int"),
        ({}, "missing field: title"),
        ({"title": "ok", "owner": "bob"}, "unknown field(s): 'owner'; only 'title' can be set"),
        (["title"], "expected a JSON object"),
    ]
    for body, message in cases:
        r = patch(s, shot_id, body)
        assert r.status_code == 422 and r.json()["message"].startswith(message), (body, r.text)
    assert patch(s, shot_id, {"title": "é" * 200}).status_code == 200  # 200 characters, not bytes
    assert "Screenshot" not in parse(requests.get(shot["pageUrl"], timeout=30).text).meta["og:title"]
    requests.delete(f"{s.api_url}/objects/{shot_id}", headers=s.headers(), timeout=30)
    r = patch(s, shot_id, {"title": "too late"})
    assert r.status_code == 410 and r.json()["error"] == "gone"
