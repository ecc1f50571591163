"""Expiry at upload (issue 15): ``expiresIn`` on a screenshot (form field) and at video init or finalize, the
server's ``default_expiry`` / ``max_expiry``, ``expiresAt`` in the answers, "expires in ..." on the page, 410
``expired`` on page and file the moment the expiry passes, and the cleanup that deletes the bytes and leaves an
'expired' tombstone. Real server over HTTP (local disk and S3 on moto); time is the server's injected clock."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import requests

from snaplark_server.config import ConfigError, ServerConfig
from tests.integration.server.conftest import SEED_INIT, finalize, send_chunk, webm_bytes
from tests.integration.server.test_share_pages import png_bytes
from tray.upload.backoff import FakeClock

T0 = 1_700_000_000.0
DAY = 86_400


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def upload_png(s, expires_in=None) -> requests.Response:
    return requests.post(f"{s.api_url}/screenshots/upload", headers=s.headers(), timeout=30,
                         data={} if expires_in is None else {"expiresIn": str(expires_in)},
                         files={"file": ("screenshot-1.png", png_bytes(), "image/png")})


def upload_video(s, *, init_expires=None, finalize_expires=None) -> requests.Response:
    init = dict(SEED_INIT, **({} if init_expires is None else {"expiresIn": init_expires}))
    r = requests.post(f"{s.api_url}/videos/init", json=init, headers=s.headers(), timeout=30)
    if r.status_code != 200:
        return r
    sid = r.json()["sessionId"]
    assert send_chunk(s, sid, 0, webm_bytes(100_000)).status_code == 200
    return finalize(s, sid, 1, **({} if finalize_expires is None else {"expiresIn": finalize_expires}))


def stored(s, key: str) -> bool:
    if s.backend == "local":
        return (s.data_dir / "objects" / key).exists()
    import boto3

    client = boto3.client("s3", endpoint_url=s.thread.config.s3_endpoint_url, region_name="us-east-1")
    try:
        client.head_object(Bucket=s.thread.config.s3_bucket, Key=key)
        return True
    except client.exceptions.ClientError:
        return False


def test_expiry_page_then_410_expired_then_deleted(make_server, backend):
    clock = FakeClock(T0)
    s = make_server(backend, clock=clock)
    shot = upload_png(s, expires_in=3600)
    assert shot.status_code == 200, shot.text
    shot = shot.json()
    assert shot["expiresAt"] == iso(T0 + 3600)
    video = upload_video(s, init_expires=7 * DAY)  # said at init, not at finalize
    assert video.status_code == 200, video.text
    video = video.json()
    assert video["expiresAt"] == iso(T0 + 7 * DAY)
    plain = upload_png(s).json()
    assert "expiresAt" not in plain  # no expiry asked, none configured

    page = requests.get(shot["pageUrl"], timeout=30).text
    assert f'class="expires">in <time datetime="{iso(T0 + 3600)}">1 hour</time>' in page
    assert 'class="expires">in <time datetime="' in requests.get(video["pageUrl"], timeout=30).text
    assert 'class="expires"' not in requests.get(plain["pageUrl"], timeout=30).text

    clock.advance(3600)  # the screenshot's expiry: every link answers 410 at once, before any cleanup
    page = requests.get(shot["pageUrl"], timeout=30)
    assert page.status_code == 410 and "This link has expired." in page.text
    raw = requests.get(shot["url"], timeout=30)
    assert raw.status_code == 410 and raw.json()["error"] == "expired"
    o = requests.get(f"{s.url}/oembed", params={"url": shot["pageUrl"]}, timeout=30)
    assert o.status_code == 410 and o.json()["error"] == "expired"
    assert "6 days</time>" in requests.get(video["pageUrl"], timeout=30).text  # 7 days less an hour
    shot_id = shot["pageUrl"].rsplit("/", 1)[1]
    key = s.db.query_one("SELECT object_key FROM objects WHERE id = ?", (shot_id,))["object_key"]
    assert stored(s, key)

    shares = s.thread.app.state.shares
    assert shares.delete_expired() == 1  # what the cleanup loop runs
    assert not stored(s, key)
    row = s.db.query_one("SELECT deleted_at, deleted_reason FROM objects WHERE id = ?", (shot_id,))
    assert (row["deleted_at"], row["deleted_reason"]) == (T0 + 3600, "expired")
    assert "This link has expired." in requests.get(shot["pageUrl"], timeout=30).text
    assert requests.get(plain["url"], timeout=30).status_code == 200
    assert shares.delete_expired() == 0

    clock.advance(7 * DAY)
    assert shares.delete_expired() == 1
    assert requests.get(video["url"], timeout=30).json()["error"] == "expired"
    vid = video["pageUrl"].rsplit("/", 1)[1]
    r = requests.delete(f"{s.api_url}/objects/{vid}", headers=s.headers(), timeout=30)  # gone already: 410 says why
    assert r.status_code == 410 and r.json()["error"] == "expired", r.text
    assert s.db.query_one("SELECT deleted_reason FROM objects WHERE id = ?", (vid,))["deleted_reason"] == "expired"


def test_the_cleanup_loop_deletes_expired_uploads(make_server):
    clock = FakeClock(T0)
    s = make_server("local", clock=clock, cleanup_interval=0.05)
    shot = upload_png(s, expires_in=60).json()
    shot_id = shot["pageUrl"].rsplit("/", 1)[1]
    key = s.db.query_one("SELECT object_key FROM objects WHERE id = ?", (shot_id,))["object_key"]
    clock.advance(59)
    deadline = time.monotonic() + 1.0  # ~20 rounds of the loop: none may delete it yet
    while time.monotonic() < deadline:
        assert stored(s, key)
        time.sleep(0.05)
    clock.advance(1)
    deadline = time.monotonic() + 30
    while stored(s, key) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not stored(s, key)
    assert s.db.query_one("SELECT deleted_reason FROM objects WHERE id = ?", (shot_id,))["deleted_reason"] == "expired"


def test_server_default_and_maximum_and_bad_values(make_server):
    clock = FakeClock(T0)
    s = make_server("local", clock=clock, default_expiry=DAY, max_expiry=7 * DAY)
    assert upload_png(s).json()["expiresAt"] == iso(T0 + DAY)  # the server's default
    assert upload_video(s).json()["expiresAt"] == iso(T0 + DAY)
    assert upload_video(s, init_expires=DAY, finalize_expires=2 * DAY).json()["expiresAt"] == iso(T0 + 2 * DAY)
    too_long = upload_png(s, expires_in=8 * DAY)
    assert too_long.status_code == 422 and "max_expiry" in too_long.json()["message"]
    assert too_long.json()["maxExpiry"] == 7 * DAY
    for bad in ("abc", "-5", "0", "1e9"):
        r = upload_png(s, expires_in=bad)
        assert r.status_code == 422 and r.json()["message"].startswith("expiresIn:"), (bad, r.text)
    for bad in (-1, 0, True, "60", [60]):
        r = upload_video(s, init_expires=bad)
        assert r.status_code == 422 and r.json()["message"].startswith("expiresIn:"), (bad, r.text)
        r = upload_video(s, finalize_expires=bad)
        assert r.status_code == 422 and r.json()["message"].startswith("expiresIn:"), (bad, r.text)
    only_max = make_server("local", clock=clock, max_expiry=3 * DAY)  # nothing may live longer than the maximum
    assert upload_png(only_max).json()["expiresAt"] == iso(T0 + 3 * DAY)
    with pytest.raises(ConfigError, match="default_expiry"):
        ServerConfig(data_dir=s.data_dir, default_expiry=8 * DAY, max_expiry=7 * DAY)
    with pytest.raises(ConfigError, match="max_expiry"):
        ServerConfig(data_dir=s.data_dir, max_expiry=-1)


def test_owner_delete_is_not_called_expired(make_server):
    s = make_server("local", clock=FakeClock(T0))
    shot = upload_png(s, expires_in=3600).json()
    shot_id = shot["pageUrl"].rsplit("/", 1)[1]
    assert requests.delete(f"{s.api_url}/objects/{shot_id}", headers=s.headers(), timeout=30).status_code == 200
    assert s.db.query_one("SELECT deleted_reason FROM objects WHERE id = ?", (shot_id,))["deleted_reason"] == "owner"
    assert "deleted by its owner" in requests.get(shot["pageUrl"], timeout=30).text
    assert requests.get(shot["url"], timeout=30).json()["error"] == "gone"
    assert s.thread.app.state.shares.delete_expired() == 0
