"""Users and tokens from the command line (issue 16, acceptance 5): ``user token`` (rotation, old tokens kept
unless --revoke-others), ``user disable/enable``, ``user delete`` (objects and files too, after confirmation),
token expiry (401 saying so), ``user list`` with usage and the ``usage`` report -- the real CLI in a subprocess
against a running server on the same data dir."""

from __future__ import annotations

import time

import pytest
import requests

from snaplark_server.config import ServerConfig
from snaplark_server.runner import ServerThread

from .conftest import EBML_MAGIC
from .test_cli_users import run_cli
from .test_screenshots import png_bytes


class OffsetClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def running(tmp_path):
    clock = OffsetClock()
    thread = ServerThread(ServerConfig(data_dir=tmp_path, port=0, cleanup_interval=3600.0), clock=clock).start()
    try:
        yield thread, clock, tmp_path
    finally:
        thread.stop()


def token_from(done) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def me(thread, token) -> requests.Response:
    return requests.get(thread.api_url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def upload_both(thread, token) -> tuple[str, str]:
    h = {"Authorization": f"Bearer {token}"}
    shot = requests.post(thread.api_url + "/screenshots/upload", headers=h, timeout=30,
                         files={"file": ("s.png", png_bytes(), "image/png")})
    assert shot.status_code == 200, shot.text
    sid = requests.post(thread.api_url + "/videos/init", headers=h, timeout=30, json={
        "filename": "r.webm", "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 1, "resolution": "2x2"}
    ).json()["sessionId"]
    assert requests.post(thread.api_url + "/videos/chunk", headers=h, timeout=30,
                         data={"sessionId": sid, "chunkIndex": "0"},
                         files={"chunk": ("c", EBML_MAGIC + b"v" * 2000)}).status_code == 200
    video = requests.post(thread.api_url + "/videos/finalize", headers=h, timeout=30,
                          json={"sessionId": sid, "totalChunks": 1, "uploadedChunks": [0]})
    assert video.status_code == 200, video.text
    return shot.json()["url"], video.json()["url"]


def test_token_rotation_keeps_old_tokens_unless_revoke_others(running):
    thread, _, data = running
    first = token_from(run_cli(data, "user", "add", "carol"))
    second = token_from(run_cli(data, "user", "token", "carol"))
    assert first != second
    assert me(thread, first).status_code == 200 and me(thread, second).json() == {"user": "carol"}
    rotated = run_cli(data, "user", "token", "carol", "--revoke-others")
    third = token_from(rotated)
    assert "revoked" in rotated.stdout
    assert [me(thread, t).status_code for t in (first, second, third)] == [401, 401, 200]
    # after `token revoke`, `user token` is how a user gets back in (`user add` says it exists)
    assert run_cli(data, "token", "revoke", "carol").returncode == 0
    assert me(thread, third).status_code == 401
    assert "revoked" in run_cli(data, "user", "list").stdout
    assert run_cli(data, "user", "add", "carol").returncode == 1
    assert me(thread, token_from(run_cli(data, "user", "token", "carol"))).status_code == 200
    unknown = run_cli(data, "user", "token", "nobody")
    assert unknown.returncode == 1 and "no such user" in unknown.stderr


def test_disable_refuses_every_token_until_enabled(running):
    thread, _, data = running
    token = token_from(run_cli(data, "user", "add", "dora"))
    shot, _ = upload_both(thread, token)
    assert run_cli(data, "user", "disable", "dora").returncode == 0
    r = me(thread, token)
    assert r.status_code == 401 and r.json()["error"] == "user_disabled" and "disabled" in r.json()["message"]
    assert requests.get(shot, timeout=10).status_code == 200  # nothing is deleted: links keep working
    assert "dora\tdisabled" in run_cli(data, "user", "list").stdout
    assert run_cli(data, "user", "enable", "dora").returncode == 0
    assert me(thread, token).status_code == 200


def test_delete_removes_the_user_its_objects_and_their_files_after_confirmation(running):
    thread, _, data = running
    token = token_from(run_cli(data, "user", "add", "erin"))
    other = token_from(run_cli(data, "user", "add", "frank"))
    urls = upload_both(thread, token)
    kept = upload_both(thread, other)
    files_before = sorted(p for p in (data / "objects").rglob("*") if p.is_file())
    refused = run_cli(data, "user", "delete", "erin", input_text="no\n")
    assert refused.returncode == 1 and "nothing deleted" in refused.stderr
    assert all(requests.get(u, timeout=10).status_code == 200 for u in urls)
    confirmed = run_cli(data, "user", "delete", "erin", input_text="erin\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "2 upload(s)" in confirmed.stdout
    assert [requests.get(u, timeout=10).status_code for u in urls] == [404, 404]
    assert me(thread, token).status_code == 401
    files_after = sorted(p for p in (data / "objects").rglob("*") if p.is_file())
    assert len(files_before) - len(files_after) >= 2 and all(p in files_before for p in files_after)
    assert all(requests.get(u, timeout=10).status_code == 200 for u in kept)  # another user's are kept
    listed = run_cli(data, "user", "list").stdout
    assert "erin" not in listed and "frank\tactive" in listed
    assert run_cli(data, "user", "delete", "frank", "--yes").returncode == 0
    assert [requests.get(u, timeout=10).status_code for u in kept] == [404, 404]
    assert sorted(p for p in (data / "objects").rglob("*") if p.is_file()) == []


def test_token_expiry_is_enforced_with_a_clear_401(running):
    thread, clock, data = running
    token = token_from(run_cli(data, "user", "add", "gina", "--expires", "2h"))
    assert "valid until" in run_cli(data, "user", "token", "gina", "--expires", "90d").stdout
    assert me(thread, token).status_code == 200
    clock.offset = 3 * 3600  # the server's clock, 3 h later
    r = me(thread, token)
    assert r.status_code == 401 and r.json()["error"] == "token_expired"
    assert "expired" in r.json()["message"] and "user token gina" in r.json()["message"]
    assert r.headers["www-authenticate"] == "Bearer"
    bad = run_cli(data, "user", "token", "gina", "--expires", "90x")
    assert bad.returncode == 1 and "invalid duration" in bad.stderr


def test_user_list_and_usage_report(running):
    thread, _, data = running
    token = token_from(run_cli(data, "user", "add", "hugo"))
    token_from(run_cli(data, "user", "add", "ivy"))
    upload_both(thread, token)
    size = thread.app.state.db.query_one("SELECT SUM(size) FROM objects")[0]
    listed = {line.split("\t")[0]: line.split("\t") for line in run_cli(data, "user", "list").stdout.splitlines()}
    assert listed["hugo"][1:5] == ["active", "1 token(s)", "2 object(s)", f"{size} bytes"]
    assert listed["hugo"][5].startswith("last upload 20") and listed["ivy"][3:6] == ["0 object(s)", "0 bytes",
                                                                                     "last upload -"]
    report = run_cli(data, "usage")
    assert report.returncode == 0, report.stderr
    rows = [line.split("\t") for line in report.stdout.splitlines()]
    assert rows[0] == ["user", "objects", "bytes_stored", "bytes_today", "open_sessions", "last_upload"]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["hugo"][1:5] == ["2", str(size), str(size), "0"]
    assert by_name["total"][1:3] == ["2", str(size)]
