"""A real HTTP front for moto's S3 server that enforces what AWS S3 checks and moto skips, for presigned parts:

* a presigned URL (``X-Amz-Date`` + ``X-Amz-Expires`` in its query) past its expiry -> ``403 AccessDenied``
  "Request has expired", judged by the gate's own movable clock (``advance(seconds)``);
* a ``Content-MD5`` header that is not the body's MD5 -> ``400 BadDigest``.

With ``minio=True`` it also answers as MinIO does where moto differs: a CompleteMultipartUpload repeated after it
succeeded -> ``404 NoSuchUpload`` (AWS and moto answer it again; minio/minio#13318, "working as intended"; MinIO is
the S3 of deploy/compose.yaml), and an UploadPart to an upload that was completed or aborted -> ``404 NoSuchUpload``
as MinIO and AWS answer (moto 5 fails with a 500, a KeyError inside).

``hold_object_puts()``: plain PutObjects (a whole object, not a part or a copy) wait until the returned event is
set; ``object_put_held`` is set while one waits.

Everything else is passed to moto unchanged. ``expire_next_puts(n)``: the next ``n`` presigned PUTs are answered
as expired whatever the clock says. ``tamper_next_puts(n, how)`` makes the gate store other bytes for the
next ``n`` part PUTs (``"flip"``: the first byte changed; ``"grow"``: one byte appended) with a matching
Content-MD5 -- a storage that ends up holding bytes the client did not send (a stale or interfered PUT), which only
the server's ListParts check at count time can notice. ``puts`` counts the presigned part PUTs that reached the gate
(the server's own UploadParts for /videos/chunk are not counted).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
              "proxy-authenticate", "content-length", "host", "expect"}


def _s3_error(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
            f"</Error>").encode()


class S3Gate:
    def __init__(self, upstream: str, *, minio: bool = False) -> None:
        self.upstream = upstream.rstrip("/")
        self.minio = minio
        self.completed: set[str] = set()  # upload ids whose CompleteMultipartUpload succeeded (minio=True)
        self.aborted: set[str] = set()  # ... and whose AbortMultipartUpload did
        self.offset = 0.0
        self.puts = 0
        self.expired = 0
        self._tamper: list[str] = []
        self._expire_next = 0
        self._lock = threading.Lock()
        self._http = threading.local()
        self._hold: threading.Event | None = None
        self.object_put_held = threading.Event()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                gate._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3-gate", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "S3Gate":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def expire_next_puts(self, count: int) -> None:
        """The next ``count`` presigned PUTs are refused as expired (URLs that waited too long)."""
        with self._lock:
            self._expire_next += count

    def tamper_next_puts(self, count: int, how: str = "flip") -> None:
        assert how in ("flip", "grow")
        with self._lock:
            self._tamper.extend([how] * count)

    def hold_object_puts(self) -> threading.Event:
        """Whole-object PUTs wait (at most 60 s) until the returned event is set."""
        self._hold = threading.Event()
        return self._hold

    # ------------------------------------------------------------------------------------------------ serving
    def _session(self) -> requests.Session:
        if not hasattr(self._http, "s"):
            self._http.s = requests.Session()
        return self._http.s

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        query = parse_qs(urlsplit(h.path).query)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP}
        is_part_put = h.command == "PUT" and "partNumber" in query and "X-Amz-Signature" in query  # presigned
        if "X-Amz-Expires" in query:
            signed = calendar.timegm(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ"))
            with self._lock:
                late = self._expire_next > 0
                self._expire_next -= late
            if late or time.time() + self.offset > signed + int(query["X-Amz-Expires"][0]):
                self.expired += 1
                return self._answer(h, 403, _s3_error("AccessDenied", "Request has expired"))
        md5 = h.headers.get("Content-MD5")
        if md5 is not None and md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
            return self._answer(h, 400, _s3_error("BadDigest", "The Content-MD5 you specified did not match"))
        if is_part_put:
            with self._lock:
                self.puts += 1
                how = self._tamper.pop(0) if self._tamper else None
            if how == "flip":
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            elif how == "grow":
                body += b"\0"
            if how is not None:
                for k in [k for k in headers if k.lower() == "content-md5"]:
                    headers[k] = base64.b64encode(hashlib.md5(body).digest()).decode()
        hold = self._hold
        if (hold is not None and h.command == "PUT" and "partNumber" not in query and "uploadId" not in query
                and "x-amz-copy-source" not in {k.lower() for k in headers}):
            self.object_put_held.set()
            hold.wait(60)
        upload = query.get("uploadId", [None])[0] if self.minio else None
        completing = upload is not None and h.command == "POST"
        if (completing and upload in self.completed) or (
                h.command == "PUT" and "partNumber" in query and upload in self.completed | self.aborted):
            return self._answer(h, 404, _s3_error("NoSuchUpload", "The specified multipart upload does not exist. "
                                                  "The upload ID may be invalid, or the upload may have been aborted "
                                                  "or completed."))
        resp = self._session().request(h.command, self.upstream + h.path, data=body if body else None,
                                       headers=headers, allow_redirects=False, timeout=60)
        if completing and resp.status_code == 200 and b"<Error>" not in resp.content:
            self.completed.add(upload)
        elif upload is not None and h.command == "DELETE" and resp.status_code == 204:
            self.aborted.add(upload)
        self._answer(h, resp.status_code, resp.content, resp.headers, head=h.command == "HEAD")

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, content: bytes, headers=None, head: bool = False) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding":
                h.send_header(k, v)
        if head and headers is not None and "Content-Length" in headers:
            h.send_header("Content-Length", headers["Content-Length"])
        else:
            h.send_header("Content-Length", str(len(content)))
        h.end_headers()
        if not head:
            h.wfile.write(content)


def server_received_bytes(app) -> dict[str, float]:
    """Request body bytes a reference server's app received, by route (its snaplark_http_request_bytes counter):
    what the tests of parts straight to storage compare with the bytes that went to the gate instead."""
    out = {}
    for family in app.state.metrics.bytes_in.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                out[sample.labels["route"]] = sample.value
    return out
