"""What a server supports, and the checks made before using it, with one rule for every caller.

``shared/API.md``: every extension is optional, and a client built on it works against a server that speaks only
the seed. So:

* **Reachable** means the API base answers any HTTP response (:meth:`ApiClient.probe`); a 404 on ``/health`` is an
  answer. Only an answer that is clearly not an API (an HTML page or the wrong content type on a *seed* endpoint)
  makes a :class:`NotSnaplarkServer`.
* **Token**: ``GET /me`` where the server has it (401 = refused); where it does not, the token is checked by the
  first upload (a 401 there puts the upload into ``AUTH_REQUIRED``).

:func:`preflight` is the pre-check of ``snaplark upload``/``shot``; :func:`verify_token` serves ``snaplark login`` and
the tray's "Log in"; :func:`survey` is ``snaplark server check``.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from tray.api.client import ApiClient
from tray.api.errors import (
    ApiError,
    AuthRequired,
    ChecksumMismatch,
    ExtensionMissing,
    Incomplete,
    NotSnaplarkServer,
    Offline,
    PermanentError,
    SessionGone,
    StorageRefused,
)

API_PREFIX = "/api/v1"
CANNOT_CHECK_NOTE = "this server cannot check tokens before use; it will be checked on the first upload"


def preflight(client: ApiClient) -> str | None:
    """None when uploads can start, else one sentence for the user (unreachable, or the token refused)."""
    try:
        client.probe()
        client.me()
    except AuthRequired:
        return (f"{client.base_url} refused the token (401): log in again with "
                f"`snaplark login --server {client.base_url}`")
    except Offline as exc:
        return describe_offline(client.base_url, exc)
    except NotSnaplarkServer as exc:
        return f"{client.base_url} is not a Snaplark server: {exc}"
    except ApiError as exc:
        return f"{client.base_url}: {exc}"
    return None


def describe_offline(url: str, exc: Offline) -> str:
    """One sentence for "nothing answered" (the ApiClient already words it: URL, reason, likely fix)."""
    return exc.message


@dataclass
class TokenCheck:
    api_url: str
    user: str | None  # None: the server has no /me, the token is unchecked
    note: str | None = None


def verify_token(url: str, token: str, client_factory: Callable[..., Any] = ApiClient) -> TokenCheck:
    """Check ``token`` against the server at ``url`` with ``GET /me``. A bare server root (no path) is also tried
    with ``/api/v1`` appended. A server without ``/me`` cannot check it: the result says so (``user`` None).
    Raises AuthRequired (401), Offline, NotSnaplarkServer, ApiError."""
    candidates = [url.rstrip("/")]
    if urlsplit(url).path in ("", "/"):
        candidates.append(candidates[0] + API_PREFIX)
    unchecked: str | None = None
    for i, candidate in enumerate(candidates):
        client = client_factory(candidate, lambda: token)
        try:
            body = client.me()
        except NotSnaplarkServer:  # e.g. the root URL answers /me with an HTML page
            if i == len(candidates) - 1:
                raise
            continue
        finally:
            client.close()
        if body is not None:
            user = body.get("user")
            name = user.get("name", user) if isinstance(user, dict) else user
            return TokenCheck(candidate, str(name))
        unchecked = candidate  # the last candidate without /me: for a bare root, the seed's /api/v1
    assert unchecked is not None
    return TokenCheck(unchecked, None, CANNOT_CHECK_NOTE)


# ---------------------------------------------------------------------------------------------- snaplark server check
@dataclass
class Finding:
    name: str
    supported: bool | None  # None: not checked
    detail: str
    without: str = ""  # what the client does without it


@dataclass
class Survey:
    api_url: str
    findings: list[Finding] = field(default_factory=list)
    uploads_work: bool = False
    problem: str | None = None

    def add(self, name: str, supported: bool | None, detail: str, without: str = "") -> None:
        self.findings.append(Finding(name, supported, detail, without))

    def render(self) -> str:
        mark = {True: "yes", False: "no ", None: "?  "}
        lines = [f"Server {self.api_url}"]
        for f in self.findings:
            line = f"  [{mark[f.supported]}] {f.name}: {f.detail}"
            if f.supported is False and f.without:
                line += f"\n        without it: {f.without}"
            lines.append(line)
        if self.uploads_work:
            lines.append("Uploads will work.")
        else:
            lines.append(f"Uploads will NOT work: {self.problem}")
        return "\n".join(lines)


def tiny_webm() -> bytes:
    """A real one-frame 16x16 VP9 WebM (a server may check the container signature at finalize)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as out:
        stream = out.add_stream("libvpx-vp9", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        import numpy as np

        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def survey(client: ApiClient, *, test_upload: bool = True, clock: Callable[[], float] = time.time) -> Survey:
    """Find what the server supports. With ``test_upload`` a one-frame WebM (a few hundred bytes) is uploaded
    through init → chunk → finalize to learn the per-part and whole-file sha256 checks and Range serving; that
    leaves one tiny video on the server."""
    s = Survey(client.base_url)
    try:
        has_health = client.probe()
    except Offline as exc:
        s.add("reachable", False, describe_offline(client.base_url, exc))
        s.problem = "nothing answers at this address"
        return s
    s.add("reachable", True, "the API base answers HTTP")
    s.add("/health", has_health, "answers {\"status\": \"ok\"}" if has_health else "not implemented",
          "online = any HTTP answer from the API base")
    try:
        me = client.me()
    except AuthRequired:
        s.add("token accepted", False, "GET /me answered 401")
        s.problem = f"the token is refused: `snaplark login --server {client.base_url}`"
        return s
    except ApiError as exc:
        s.add("/me", False, str(exc))
        me = None
    if me is not None:
        s.add("/me", True, f"token accepted, user {me.get('user')}")
    else:
        s.add("/me", False, "not implemented", "login stores the token unchecked; the first upload checks it")
    if not test_upload:
        s.add("seed endpoints", None, "not checked (--no-upload)")
        s.uploads_work = True if me is not None else False
        s.problem = None if me is not None else "not checked without a test upload (drop --no-upload)"
        return s
    try:
        _test_upload(client, s, clock)
    except AuthRequired:
        s.add("token accepted", False, "the seed endpoints answered 401")
        s.problem = f"the token is refused: `snaplark login --server {client.base_url}`"
    except Offline as exc:
        s.problem = describe_offline(client.base_url, exc)
    except ApiError as exc:
        s.problem = str(exc)
    return s


def _test_upload(client: ApiClient, s: Survey, clock: Callable[[], float]) -> None:
    data = tiny_webm()
    sha = hashlib.sha256(data).hexdigest()
    stamp = int(clock() * 1000)
    started = client.video_init_session({"filename": f"snaplark-server-check-{stamp}.webm", "timestamp": stamp,
                                         "fps": 1, "codec": "vp9", "bitrate": 100_000, "resolution": "16x16"})
    session = started.session_id
    s.add("POST /videos/init", True, f"session {session}")
    wrong = hashlib.sha256(b"snaplark server check: deliberately wrong").hexdigest()
    try:
        body = client.video_chunk(session, 0, data, wrong)
        part_sha = False  # stored despite a wrong sha256: the server does not check it
    except ChecksumMismatch:  # refused (422), or stored but the echoed sha256 shows the difference
        part_sha = True
        body = client.video_chunk(session, 0, data, sha)
    s.add("POST /videos/chunk", True, "part stored")
    s.add("token accepted", True, "the seed endpoints accepted it")
    s.add("per-part sha256", part_sha, "a part with a wrong sha256 was refused (422)" if part_sha else
          "a part with a wrong sha256 was accepted" + (" (echoed)" if body.get("sha256") else ""),
          "parts are not verified in transit; TCP checksums only")
    if started.direct_parts:
        s.add("parts straight to storage", *_direct_part(client, session, data, sha),
              "this client sends every part through the server (/videos/chunk)")
    else:
        s.add("parts straight to storage", False, "not offered", "every part goes through the server (/videos/chunk)")
    try:
        status = client.video_status(session)
    except SessionGone:
        status = None
    s.add("GET /videos/{id}/status", status is not None, "lists the parts held" if status is not None else
          "not implemented", "after a restart the client trusts its own journal for which parts were acked")
    try:
        result = client.video_finalize(session, 1, [0], 1.0, {"snaplarkServerCheck": True}, sha256=wrong)
        whole_sha = False
    except (PermanentError, ChecksumMismatch) as exc:
        if exc.status != 422:
            raise
        whole_sha = True
        if isinstance(exc.body, dict) and exc.body.get("partsDiscarded"):  # S3: the refused assembly used them up
            client.video_chunk(session, 0, data, sha)
        result = client.video_finalize(session, 1, [0], 1.0, {"snaplarkServerCheck": True}, sha256=sha)
    s.add("POST /videos/finalize", True, f"url {result['url']}")
    s.add("whole-file sha256", whole_sha, "a finalize with a wrong sha256 was refused (422)" if whole_sha else
          "not checked", "the finished file is not verified end to end (`snaplark upload --verify` can)")
    s.add("pageUrl", bool(result.get("pageUrl")), "watch page link" if result.get("pageUrl") else "not given",
          "the file URL is copied")
    served, ranged = _served_with_range(client, result["url"], data)
    s.add("served file", served, "the uploaded bytes came back identical" if served else
          "the file URL did not return the uploaded bytes")
    s.add("served Range", ranged, "206 for a byte range" if ranged else "no 206 for a byte range",
          "players cannot seek before the whole file is loaded")
    s.uploads_work = True


def _served_with_range(client: ApiClient, url: str, data: bytes) -> tuple[bool, bool]:
    try:
        served = client.download(url) == data
    except ApiError:
        return False, False
    try:
        ranged = client.download(url, byte_range=(0, 9)) == data[:10]
    except ApiError:
        ranged = False
    return served, ranged


def _direct_part(client: ApiClient, session: str, data: bytes, sha: str) -> tuple[bool, str]:
    """Send the check's part again, straight to storage as an upload would: (worked, what happened)."""
    md5 = hashlib.md5(data).hexdigest()
    try:
        target = client.video_part_url(session, 0, len(data), md5)
        client.put_to_storage(target, data)
        client.video_part_complete(session, 0, len(data), md5, sha, data[:16])
    except StorageRefused as exc:
        return False, f"offered, but {exc}"
    except (PermanentError, ChecksumMismatch, Incomplete, ExtensionMissing) as exc:
        return False, f"offered, but the part was not counted: {exc}"
    return True, f"a part went to {urlsplit(target.url).netloc} and the server counted it"
