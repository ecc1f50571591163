"""HTTP client for the Snaplark upload API (``shared/API.md``).

One :class:`ApiClient` wraps one ``requests.Session``. Threading contract: an ApiClient is used by one thread at a
time (``requests.Session`` is not safe to share); give each worker its own (:meth:`ApiClient.clone`).

Every call has a timeout: connect ``connect_timeout`` (5 s), read scaled to the body size so a 64 MiB part on a slow
link is not cut off while a stalled server is still noticed. Redirects are followed by hand so the bearer token is
only ever sent to the origin it was configured for.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urljoin, urlsplit

from tray import __version__
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
    TransientError,
)
from tray.api.http_text import parse_retry_after, unreachable_message
from tray.api.multipart import MultipartBody
from tray.api.video_session import PartTarget, VideoSession, optional_count

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
SESSION_CODES = {"session_not_found", "session_expired"}
OBJECT_CODES = {"object_not_found"}  # a 404 naming an object (delete, trim), not a missing extension endpoint
TRANSIENT_STATUSES = {408, 425, 429}


def _requests():
    """``requests`` on first use: with urllib3, ssl and charset_normalizer it is ~13 MiB of the idle tray app's
    memory, and an idle tray app (embedded server not yet woken) sends nothing."""
    import requests

    return requests


def preload_http_stack() -> None:
    """Import ``requests`` now (e.g. on a background thread while the user is still selecting a region)."""
    _requests()


@functools.cache
def user_agent() -> str:
    return f"snaplark-tray/{__version__} (+https://snaplark.com) python-requests/{_requests().__version__}"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _may_carry_token(configured: str, target: str) -> bool:
    """The token goes only to the configured origin (or its https upgrade on the default port)."""
    scheme, host, port = _origin(configured)
    t_scheme, t_host, t_port = _origin(target)
    if (t_scheme, t_host, t_port) == (scheme, host, port):
        return True
    return scheme == "http" and t_scheme == "https" and t_host == host and port == 80 and t_port == 443


class ApiClient:
    """Typed calls for every endpoint of the upload API; failures raise :mod:`tray.api.errors` types."""

    def __init__(self, base_url: str, token_provider: Callable[[], str | None], *,
                 session: requests.Session | None = None, connect_timeout: float = 5.0,
                 min_read_timeout: float = 30.0, min_throughput: float = 64 * 1024,
                 on_auth_required: Callable[[], None] | None = None, verify: bool | str = True):
        if not base_url or urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
            raise ValueError(f"server URL must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._token_provider = token_provider
        self._session = session or _requests().Session()
        self._session.trust_env = True
        self.connect_timeout = connect_timeout
        self.min_read_timeout = min_read_timeout
        self.min_throughput = min_throughput
        self._on_auth_required = on_auth_required
        self._verify = verify

    def clone(self) -> "ApiClient":
        """A new client with the same settings and its own Session, for another thread."""
        return ApiClient(self.base_url, self._token_provider, connect_timeout=self.connect_timeout,
                         min_read_timeout=self.min_read_timeout, min_throughput=self.min_throughput,
                         on_auth_required=self._on_auth_required, verify=self._verify)

    def close(self) -> None:
        self._session.close()

    def token_fingerprint(self) -> str | None:
        """A hash of the token the next request would carry (None: no token), so a caller can tell that the token
        changed without ever holding it."""
        token = self._token_provider()
        return hashlib.sha256(token.encode()).hexdigest()[:16] if token else None

    # ----------------------------------------------------------------- endpoints
    def health(self) -> dict:
        """``GET /health`` (no auth). Raises NotSnaplarkServer unless the answer is ``{"status": "ok"}``."""
        body = self._call("GET", "/health", auth=False)
        if body.get("status") != "ok":
            raise NotSnaplarkServer(f"{self.base_url}/health did not answer {{\"status\": \"ok\"}}",
                                    body=body, url=self.base_url)
        return body

    def probe(self) -> bool:
        """Is the server reachable? Any HTTP answer to ``GET /health`` counts: a seed-only server has no
        ``/health`` and answers 404 (or an HTML error page), which still proves it is there. Returns True when the
        answer is the ``/health`` extension's ``{"status": "ok"}``; raises Offline when nothing answers."""
        resp = self._send("GET", self.base_url + "/health", auth=False)
        try:
            if resp.status_code != 200:
                return False
            try:
                body = resp.json()
            except ValueError:
                return False
            return isinstance(body, dict) and body.get("status") == "ok"
        finally:
            resp.close()

    def me(self) -> dict | None:
        """``GET /me``: ``{"user": ...}`` for a good token, AuthRequired for a bad one, None when the server has no
        ``/me`` (a seed-only server: the token can only be checked by the first upload)."""
        try:
            body = self._call("GET", "/me", extension=True)
        except ExtensionMissing:
            return None
        if "user" not in body:
            raise NotSnaplarkServer(f"{self.base_url}/me did not name a user", body=body, url=self.base_url)
        return body

    def upload_screenshot(self, png: bytes, filename: str | None = None, content_type: str = "image/png") -> str:
        return self.upload_screenshot_answer(png, filename, content_type)["url"]

    def upload_screenshot_answer(self, png: bytes, filename: str | None = None, content_type: str = "image/png",
                                 expires_in: int | None = None) -> dict:
        """The whole answer: ``url`` (always), ``pageUrl`` when the server has share pages, ``expiresAt`` when it
        took ``expires_in`` (seconds; the form field ``expiresIn``, which a seed-only server ignores)."""
        filename = filename or f"screenshot-{int(time.time() * 1000)}.png"
        if expires_in is None:
            body = self._call("POST", "/screenshots/upload", files={"file": (filename, png, content_type)},
                              body_size=len(png))
        else:
            form = MultipartBody([("expiresIn", str(int(expires_in)))], ("file", filename, content_type, png))
            body = self._call("POST", "/screenshots/upload", data=form, body_size=len(png))
        self._require(body, "url", "/screenshots/upload")
        return body

    def delete_object(self, object_id: str) -> dict:
        """Extension, the owner's token: the links answer 410 afterwards (ExtensionMissing on a seed server)."""
        return self._call("DELETE", f"/objects/{object_id}", extension=True)

    def set_title(self, object_id: str, title: str | None) -> dict:
        """Extension, the owner's token: the page, its previews and oEmbed show ``title`` (None/"" removes it);
        ExtensionMissing on a server without it."""
        return self._call("PATCH", f"/objects/{object_id}", json_body={"title": title}, extension=True)

    def trim_video(self, object_id: str, start: float, end: float | None) -> dict:
        """Extension: the server cuts at keyframes and says the start/end it used (ExtensionMissing: none)."""
        body = {"start": float(start), **({} if end is None else {"end": float(end)})}
        return self._call("POST", f"/videos/{object_id}/trim", json_body=body, extension=True)

    def video_init(self, metadata: dict) -> str:
        return self.video_init_session(metadata).session_id

    def video_init_session(self, metadata: dict) -> "VideoSession":
        """``/videos/init``: the new session id, and the part limits when the server states them (an extension:
        ``minPartSize``, ``maxParts``; a seed server says neither and gets 5 MiB parts), and ``directParts``."""
        body = self._call("POST", "/videos/init", json_body=metadata)
        return VideoSession(self._require(body, "sessionId", "/videos/init"),
                            optional_count(body, "minPartSize", 0), optional_count(body, "maxParts", 1),
                            direct_parts=body.get("directParts") is True)

    def video_chunk(self, session_id: str, index: int, data: bytes | memoryview, sha256: str | None = None) -> dict:
        fields = [("sessionId", session_id), ("chunkIndex", str(int(index)))]
        if sha256:
            fields.append(("sha256", sha256))
        form = MultipartBody(fields, ("chunk", f"chunk_{int(index)}.webm", "video/webm", data))
        body = self._call("POST", "/videos/chunk", data=form, body_size=len(data), session=True)
        if body.get("received") is not True:
            raise NotSnaplarkServer("/videos/chunk did not answer received: true", body=body, url=self.base_url)
        echoed = body.get("sha256")
        if sha256 and echoed and echoed != sha256:
            raise ChecksumMismatch(f"server stored part {index} with sha256 {echoed}, sent {sha256}",
                                   status=200, code="checksum_mismatch", body=body)
        return body

    # parts straight to storage (extension, docs/api-extensions.md): url -> PUT -> complete; 501/404: not offered
    def video_part_url(self, session_id: str, index: int, size: int, md5: str) -> PartTarget:
        path = f"/videos/{session_id}/parts/{int(index)}/url"
        body = self._call("POST", path, json_body={"size": int(size), "md5": md5}, session=True, extension=True)
        return PartTarget.from_answer(body, path)

    def video_part_complete(self, session_id: str, index: int, size: int, md5: str, sha256: str,
                            head: bytes) -> dict:
        """The part is in storage: the server checks it there (size, MD5) and counts it, or refuses (422)."""
        path = f"/videos/{session_id}/parts/{int(index)}/complete"
        payload = {"size": int(size), "md5": md5, "sha256": sha256, "head": base64.b64encode(head).decode("ascii")}
        body = self._call("POST", path, json_body=payload, session=True, extension=True)
        if body.get("received") is not True:
            raise NotSnaplarkServer(f"{path} did not answer received: true", body=body, url=self.base_url)
        return body

    def put_to_storage(self, target: PartTarget, data: bytes) -> None:
        """PUT a part to a presigned storage URL: never with the token, never redirected. StorageRefused when the
        storage answers anything but 2xx (``status`` None: it did not answer at all). The URL itself is a short-lived
        credential: errors name only its host."""
        requests = _requests()
        try:
            resp = self._session.request("PUT", target.url, data=bytes(data), headers=target.headers,
                                         timeout=(self.connect_timeout, self.read_timeout(len(data))),
                                         allow_redirects=False, verify=self._verify)
        except requests.exceptions.RequestException as exc:
            raise StorageRefused(f"the storage at {urlsplit(target.url).netloc} did not answer: "
                                 f"{type(exc).__name__}", url=urlsplit(target.url).netloc) from exc
        with resp:
            if not 200 <= resp.status_code < 300:
                raise StorageRefused(f"the storage refused the part: {resp.status_code} {resp.text[:200]!r}",
                                     status=resp.status_code, url=urlsplit(target.url).netloc)

    def video_status(self, session_id: str) -> dict | None:
        """Server's view of a session, or None when the server does not implement the status extension."""
        try:
            return self._call("GET", f"/videos/{session_id}/status", session=True, extension=True)
        except ExtensionMissing:
            return None

    def video_finalize(self, session_id: str, total_chunks: int, uploaded_chunks: list[int], duration: float,
                       metadata: dict, sha256: str | None = None, expires_in: int | None = None) -> dict:
        """``expires_in``: the extension field ``expiresIn`` (seconds); a seed-only server ignores it, and then the
        answer has no ``expiresAt``."""
        payload: dict[str, Any] = {"sessionId": session_id, "totalChunks": int(total_chunks),
                                   "uploadedChunks": sorted(int(i) for i in uploaded_chunks),
                                   "duration": float(duration), "metadata": metadata}
        if sha256:
            payload["sha256"] = sha256
        if expires_in is not None:
            payload["expiresIn"] = int(expires_in)
        body = self._call("POST", "/videos/finalize", json_body=payload, session=True)
        self._require(body, "url", "/videos/finalize")
        return body

    def download(self, url: str, dest=None, chunk_size: int = 1 << 20,
                 byte_range: tuple[int, int] | None = None) -> bytes | int | None:
        """GET a served file (absolute or relative to the server root). Returns bytes, or bytes written to ``dest``.
        With ``byte_range`` (first, last) only that range is asked for; None when the server ignores Range (200)."""
        target = url if urlsplit(url).scheme else urljoin(self.base_url + "/", url.lstrip("/"))
        headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else None
        resp = self._send("GET", target, auth=_may_carry_token(self.base_url, target), stream=True,
                          extra_headers=headers)
        try:
            if byte_range and resp.status_code == 200:
                return None
            if resp.status_code != (206 if byte_range else 200):
                self._raise_for(resp, session=False, api=False)
            if dest is None:
                return resp.content
            written = 0
            for block in resp.iter_content(chunk_size):
                dest.write(block)
                written += len(block)
            return written
        finally:
            resp.close()

    # ----------------------------------------------------------------- plumbing
    def read_timeout(self, body_size: int) -> float:
        return max(self.min_read_timeout, body_size / self.min_throughput)

    def _require(self, body: dict, key: str, path: str) -> Any:
        value = body.get(key)
        if not isinstance(value, str) or not value:
            raise NotSnaplarkServer(f"{path} answered without {key!r}", body=body, url=self.base_url)
        return value

    def _call(self, method: str, path: str, *, json_body: Any = None, files: Any = None,
              data: "MultipartBody | None" = None, body_size: int = 0, auth: bool = True,
              session: bool = False, extension: bool = False) -> dict:
        """One API call. ``session``: the path names an upload session (404/410 = SessionGone). ``extension``: the
        endpoint is one of our optional extensions, so 404/405/501 without a session code means the server does not
        have it (ExtensionMissing), never that the URL is wrong."""
        resp = self._send(method, self.base_url + path, json_body=json_body, files=files, data=data,
                          body_size=body_size, auth=auth)
        try:
            if 200 <= resp.status_code < 300:
                return self._json_object(resp)
            if extension and resp.status_code in (404, 405, 501) \
                    and self._error_code(resp) not in SESSION_CODES | OBJECT_CODES:
                raise ExtensionMissing(f"{self.base_url}{path} is not implemented by this server",
                                       status=resp.status_code, url=resp.url)
            self._raise_for(resp, session=session)
        finally:
            resp.close()
        raise AssertionError("unreachable")

    def _send(self, method: str, url: str, *, json_body: Any = None, files: Any = None,
              data: "MultipartBody | None" = None, body_size: int = 0, auth: bool = True,
              stream: bool = False, extra_headers: dict[str, str] | None = None) -> requests.Response:
        requests = _requests()
        timeout = (self.connect_timeout, self.read_timeout(body_size))
        request_id = uuid.uuid4().hex[:12]
        for hop in range(MAX_REDIRECTS + 1):
            headers = {"Accept": "application/json", "User-Agent": user_agent(), "X-Request-Id": request_id,
                       **(extra_headers or {})}
            if data is not None:
                headers["Content-Type"] = data.content_type
            if auth and _may_carry_token(self.base_url, url):
                token = self._token_provider()
                if token:
                    headers["Authorization"] = f"Bearer {token}"
            started = time.monotonic()
            try:
                resp = self._session.request(method, url, json=json_body, files=files, data=data, headers=headers,
                                             timeout=timeout, allow_redirects=False, stream=stream,
                                             verify=self._verify)
            except requests.exceptions.SSLError as exc:
                raise PermanentError(f"TLS verification failed for {url}: {exc}", url=url) from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                log.info("%s %s failed after %.2fs: %s: %s", method, urlsplit(url).path,
                         time.monotonic() - started, type(exc).__name__, exc)
                raise Offline(unreachable_message(url, exc, timeout), url=url) from exc
            log.debug("%s %s -> %s in %.3fs [%s]", method, urlsplit(url).path, resp.status_code,
                      time.monotonic() - started, request_id)
            if resp.status_code not in (301, 302, 303, 307, 308) or "Location" not in resp.headers:
                return resp
            location = urljoin(url, resp.headers["Location"])
            resp.close()
            if method != "GET" and resp.status_code in (301, 302, 303):
                raise NotSnaplarkServer(
                    f"{method} {url} was redirected to {location}; set server.url to the final API address",
                    status=resp.status_code, url=url)
            if method != "GET" and not _may_carry_token(url, location):
                # a 307/308 would have us send the body (a part of the user's recording) to another origin
                raise PermanentError(
                    f"{method} {url} was redirected to another server, {location}; the upload was not sent "
                    f"there. If that is the right server, set server.url to its API address",
                    status=resp.status_code, url=url)
            url = location
        raise NotSnaplarkServer(f"more than {MAX_REDIRECTS} redirects from {self.base_url}", url=url)

    def _json_object(self, resp: requests.Response) -> dict:
        try:
            body = resp.json()
        except (ValueError, json.JSONDecodeError):
            snippet = resp.text[:80].replace("\n", " ") if resp.content else ""
            raise NotSnaplarkServer(
                f"{resp.request.method} {resp.url} answered {resp.status_code} with "
                f"{resp.headers.get('Content-Type', 'no content type')} instead of JSON ({snippet!r}): "
                f"is {self.base_url} a Snaplark API URL?", status=resp.status_code, url=resp.url) from None
        if not isinstance(body, dict):
            raise NotSnaplarkServer(f"{resp.url} answered JSON that is not an object", status=resp.status_code,
                                    body=body, url=resp.url)
        return body

    @staticmethod
    def _error_code(resp: requests.Response) -> str | None:
        try:
            body = resp.json()
        except ValueError:
            return None
        return body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None

    def _raise_for(self, resp: requests.Response, *, session: bool, api: bool = True) -> None:
        """Raise the error type for a non-2xx answer. ``api``: the URL is an API endpoint (not a served file)."""
        status = resp.status_code
        try:
            body = resp.json()
        except ValueError:
            body = None
        code = body.get("error") if isinstance(body, dict) else None
        message = (body.get("message") if isinstance(body, dict) else None) or resp.reason or "error"
        text = f"{resp.request.method} {urlsplit(resp.url).path}: {message}"
        kwargs = dict(status=status, code=code, body=body, url=resp.url)
        if status == 401:
            if self._on_auth_required:
                self._on_auth_required()
            raise AuthRequired(text, **kwargs)
        if session and status in (404, 410):
            # chunk/finalize exist on every server (seed endpoints): a 404 there names the session, not the route
            raise SessionGone(text, **kwargs)
        if status == 409:
            missing = body.get("missing") if isinstance(body, dict) else None
            raise Incomplete(text, missing=missing if isinstance(missing, list) else [], **kwargs)
        if status == 422 and code == "checksum_mismatch":
            raise ChecksumMismatch(text, **kwargs)
        if status in TRANSIENT_STATUSES or status >= 500:
            raise TransientError(text, retry_after=parse_retry_after(resp.headers.get("Retry-After")), **kwargs)
        if 300 <= status < 400:
            raise NotSnaplarkServer(f"{text}: unexpected redirect", **kwargs)
        if 400 <= status < 500:
            if status == 404 and code in OBJECT_CODES:  # the object is not there (or not this user's)
                raise PermanentError(text, **kwargs)
            if status in (404, 405) and api:
                raise NotSnaplarkServer(
                    f"{resp.request.method} {resp.url} does not exist ({status} {message}): is {self.base_url} "
                    f"the Snaplark API URL? It usually ends in /api/v1, e.g. https://snaplark.com/api/v1",
                    **kwargs)
            raise PermanentError(text, **kwargs)
        raise ApiError(text, **kwargs)
