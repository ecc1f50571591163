"""ApiClient against real HTTP servers: each row of API.md's status table, timeouts, redirects, headers."""

from __future__ import annotations

import hashlib
import socket
import threading
import time

import pytest

from tray import __version__
from tray.api import errors
from tray.api.client import ApiClient, parse_retry_after

from .programmable_server import ProgrammableServer, Reply

TOKEN = "tok-secret-abcdef0123456789"


@pytest.fixture
def prog():
    with ProgrammableServer() as s:
        yield s


def client_for(url: str, **kw) -> ApiClient:
    return ApiClient(url + "/api/v1", lambda: TOKEN, **kw)


def test_headers_token_accept_and_user_agent(prog):
    prog.route("GET", "/api/v1/me", Reply(200, {"user": "alice"}))
    assert client_for(prog.url).me() == {"user": "alice"}
    h = prog.seen[-1].headers
    assert h["Authorization"] == f"Bearer {TOKEN}"
    assert h["Accept"] == "application/json"
    assert f"snaplark-tray/{__version__}" in h["User-Agent"]


def test_health_sends_no_token_and_rejects_non_snaplark(prog):
    prog.route("GET", "/api/v1/health", Reply(200, {"status": "ok"}))
    assert client_for(prog.url).health() == {"status": "ok"}
    assert "Authorization" not in prog.seen[-1].headers
    prog.route("GET", "/api/v1/health", Reply(200, raw=b"<html>hello</html>"))
    with pytest.raises(errors.NotSnaplarkServer, match="instead of JSON"):
        client_for(prog.url).health()


def test_2xx_marks_done_chunk_multipart_fields(prog):
    prog.route("POST", "/api/v1/videos/chunk", Reply(200, {"received": True, "chunkIndex": 3}))
    data = b"x" * 1000
    sha = hashlib.sha256(data).hexdigest()
    assert client_for(prog.url).video_chunk("s1", 3, data, sha)["chunkIndex"] == 3
    body = prog.seen[-1].body
    for needle in (b'name="sessionId"', b"s1", b'name="chunkIndex"', b"\r\n3\r\n", b'name="chunk"; filename="chunk_3.webm"',
                   b'name="sha256"', sha.encode(), data):
        assert needle in body


@pytest.mark.parametrize("status", [401])
def test_401_auth_required_and_callback(prog, status):
    called = []
    prog.route("POST", "/api/v1/videos/init", Reply(status, {"error": "unauthorized", "message": "bad token"}))
    with pytest.raises(errors.AuthRequired):
        client_for(prog.url, on_auth_required=lambda: called.append(1)).video_init({"filename": "a.webm"})
    assert called == [1]


@pytest.mark.parametrize("status,code", [(404, "session_not_found"), (410, "session_expired"), (404, None)])
def test_404_410_on_session_is_session_gone(prog, status, code):
    prog.route("POST", "/api/v1/videos/chunk", Reply(status, {"error": code, "message": "gone"} if code else {}))
    with pytest.raises(errors.SessionGone):
        client_for(prog.url).video_chunk("s1", 0, b"abc")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_with_retry_after(prog, status):
    prog.route("POST", "/api/v1/videos/finalize", Reply(status, {"error": "busy", "message": "later"},
                                                        headers={"Retry-After": "7"}))
    with pytest.raises(errors.TransientError) as info:
        client_for(prog.url).video_finalize("s1", 1, [0], 1.0, {})
    assert info.value.retry_after == 7.0 and info.value.status == status
    assert not isinstance(info.value, errors.Offline)


def test_409_incomplete_lists_missing(prog):
    prog.route("POST", "/api/v1/videos/finalize", Reply(409, {"error": "incomplete", "message": "m", "missing": [0, 2]}))
    with pytest.raises(errors.Incomplete) as info:
        client_for(prog.url).video_finalize("s1", 3, [1], 1.0, {})
    assert info.value.missing == [0, 2]


def test_422_checksum_mismatch_vs_other_422(prog):
    prog.route("POST", "/api/v1/videos/chunk", Reply(422, {"error": "checksum_mismatch", "message": "m"}))
    with pytest.raises(errors.ChecksumMismatch):
        client_for(prog.url).video_chunk("s1", 0, b"abc", "00" * 32)
    prog.route("POST", "/api/v1/videos/chunk", Reply(422, {"error": "invalid_field", "message": "m"}))
    with pytest.raises(errors.PermanentError):
        client_for(prog.url).video_chunk("s1", 0, b"abc")


def test_checksum_echo_mismatch_detected(prog):
    prog.route("POST", "/api/v1/videos/chunk", Reply(200, {"received": True, "chunkIndex": 0, "sha256": "ab" * 32}))
    with pytest.raises(errors.ChecksumMismatch):
        client_for(prog.url).video_chunk("s1", 0, b"abc", hashlib.sha256(b"abc").hexdigest())


@pytest.mark.parametrize("status", [400, 403, 413, 415])
def test_other_4xx_permanent(prog, status):
    prog.route("POST", "/api/v1/screenshots/upload", Reply(status, {"error": "nope", "message": "no"}))
    with pytest.raises(errors.PermanentError) as info:
        client_for(prog.url).upload_screenshot(b"\x89PNG")
    assert info.value.status == status and info.value.code == "nope"


def test_status_extension_missing_returns_none(prog):
    # a seed-only server has no status route: FastAPI-like 404 without our error code
    assert client_for(prog.url).video_status("s1") is None
    prog.route("GET", "/api/v1/videos/s1/status", Reply(404, {"error": "session_not_found", "message": "m"}))
    with pytest.raises(errors.SessionGone):
        client_for(prog.url).video_status("s1")


def test_connection_refused_is_offline():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(errors.Offline):
        client_for(f"http://127.0.0.1:{port}").me()


def test_server_that_never_answers_times_out(prog):
    prog.route("GET", "/api/v1/me", Reply(200, {"user": "a"}, delay=3.0))
    c = client_for(prog.url, min_read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(errors.Offline, match=r"sent no answer for 0.3 s \(Timeout\)"):
        c.me()
    assert time.monotonic() - started < 2.5


def test_silent_listener_times_out():
    """A socket that accepts and never answers (a blackholed server) raises Offline within the read timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        with pytest.raises(errors.Offline):
            client_for(f"http://127.0.0.1:{port}", min_read_timeout=0.3).me()
    finally:
        stop.set()
        t.join(2)
        for s in held:
            s.close()
        listener.close()


def test_read_timeout_scales_with_body():
    c = ApiClient("http://127.0.0.1:1/api/v1", lambda: None, min_read_timeout=30, min_throughput=64 * 1024)
    assert c.read_timeout(0) == 30
    assert c.read_timeout(64 * 1024 * 1024) == 1024


def test_cross_host_redirect_drops_token():
    with ProgrammableServer() as origin, ProgrammableServer() as other:
        other_url = other.url.replace("127.0.0.1", "localhost")  # another host name, another port
        other.route("GET", "/file.webm", Reply(200, raw=b"bytes"))
        origin.route("GET", "/v/abc.webm", Reply(302, {}, headers={"Location": other_url + "/file.webm"}))
        origin.route("GET", "/api/v1/me", Reply(307, {}, headers={"Location": other_url + "/api/v1/me"}))
        other.route("GET", "/api/v1/me", Reply(200, {"user": "x"}))
        c = ApiClient(origin.url + "/api/v1", lambda: TOKEN)
        assert c.download(origin.url + "/v/abc.webm") == b"bytes"
        c.me()
        assert origin.seen[0].headers.get("Authorization") == f"Bearer {TOKEN}"
        assert other.seen, "redirect was not followed"
        for seen in other.seen:
            assert "Authorization" not in seen.headers
            assert TOKEN.encode() not in seen.body


def test_same_origin_redirect_keeps_token(prog):
    prog.route("GET", "/api/v1/me", Reply(308, {}, headers={"Location": "/api/v2/me"}))
    prog.route("GET", "/api/v2/me", Reply(200, {"user": "a"}))
    client_for(prog.url).me()
    assert prog.seen[-1].path == "/api/v2/me"
    assert prog.seen[-1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_post_redirect_refused(prog):
    prog.route("POST", "/api/v1/videos/init", Reply(302, {}, headers={"Location": "/elsewhere"}))
    with pytest.raises(errors.NotSnaplarkServer, match="redirected"):
        client_for(prog.url).video_init({})


def test_unknown_endpoint_html_is_not_snaplark(prog):
    prog.route("POST", "/api/v1/videos/init", Reply(404, raw=b"<html>Not here</html>"))
    with pytest.raises(errors.NotSnaplarkServer, match="Snaplark API URL"):
        client_for(prog.url).video_init({})


def test_bad_base_url_rejected():
    for bad in ("", "ftp://x", "snaplark.com", "http://"):
        with pytest.raises(ValueError, match="http"):
            ApiClient(bad, lambda: None)


def test_parse_retry_after():
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10.0


@pytest.mark.parametrize("answer, limits", [
    ({"sessionId": "s1"}, (None, None)),  # a seed server: no limits said, the seed's 5 MiB rule applies
    ({"sessionId": "s1", "minPartSize": 65536, "maxParts": 10000}, (65536, 10000)),
    ({"sessionId": "s1", "minPartSize": "64k", "maxParts": 0}, (None, None)),  # malformed: ignored, not trusted
    ({"sessionId": "s1", "minPartSize": True, "maxParts": -3}, (None, None)),
])
def test_init_answer_part_limits(prog, answer, limits):
    prog.route("POST", "/api/v1/videos/init", Reply(200, answer))
    session = client_for(prog.url).video_init_session({"filename": "a.webm"})
    assert (session.session_id, session.min_part_size, session.max_parts) == ("s1", *limits)
