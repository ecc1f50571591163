"""A strict seed-only Snaplark server for client tests, written from ``shared/seed/cloud-upload.md`` alone.

It implements exactly the four seed endpoints under ``/api/v1`` and nothing of our extensions:

=============================  ===============================================================================
``POST /screenshots/upload``   multipart ``file`` (a PNG) → ``{"url"}``
``POST /videos/init``          JSON with exactly ``filename, timestamp, fps, codec, bitrate, resolution``
                               → ``{"sessionId"}``
``POST /videos/chunk``         multipart ``sessionId``, ``chunkIndex``, ``chunk`` → ``{"received": true,
                               "chunkIndex"}``; other form fields (our ``sha256``) are ignored, never echoed;
                               re-sending an index replaces the part (S3 UploadPart semantics)
``POST /videos/finalize``      JSON ``sessionId, totalChunks, uploadedChunks, duration, metadata`` →
                               ``{"key", "url"}``; ``uploadedChunks`` must be exactly ``0..totalChunks-1``, every
                               part held, every part but the last ≥ 5 MiB (else 400). A finalized session is gone:
                               finalizing it again is a 404, like any unknown session.
=============================  ===============================================================================

Every request needs ``Authorization: Bearer <token>`` (401 otherwise, answered before the body is read, then the
connection closes). There is no ``/health``, ``/me``, ``/status``, no ``sha256`` echo, no whole-file check, no
Range: anything else under the API answers ``404 {"error": "Not Found"}``. Stored files are served like a CDN at
``/cdn/<key>`` without a token. Sessions and parts live on disk in ``data_dir`` so a restarted server knows them.

Test hooks are Python methods, not HTTP routes (a seed server has none): :meth:`fault` queues answers (status,
delay, Retry-After) for the next requests to a route, :meth:`held_parts` lists what a session holds,
:meth:`forget_sessions` drops every open session (as an expiry would), :meth:`revoke` / :meth:`login_again` swap
the token. Threading: one thread per connection (``ThreadingHTTPServer``); a lock guards sessions and faults.
"""

from __future__ import annotations

import fnmatch
import json
import re
import secrets
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

API = "/api/v1"
MIN_PART = 5 * 1024 * 1024
MAX_BODY = 80 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INIT_FIELDS = {"filename": str, "timestamp": (int, float), "fps": (int, float), "codec": str,
               "bitrate": (int, float), "resolution": str}
FINALIZE_FIELDS = {"sessionId", "totalChunks", "uploadedChunks", "duration", "metadata"}


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class SeedFault:
    route: str
    count: int = 1
    status: int | None = 503
    delay: float = 0.0
    retry_after: float | None = None


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """``(fields, files)`` of a multipart/form-data body; HttpError(400) when it is not one."""
    m = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not content_type.startswith("multipart/form-data") or not m:
        raise HttpError(400, "expected multipart/form-data")
    delimiter = b"--" + m.group(1).encode()
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise HttpError(400, "malformed multipart body")
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise HttpError(400, "malformed multipart part")
        head, sep, value = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise HttpError(400, "multipart part without headers")
        disposition = next((line for line in head.decode("latin-1").split("\r\n")
                            if line.lower().startswith("content-disposition:")), "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        if not name:
            raise HttpError(400, "multipart part without a name")
        filename = re.search(r'filename="([^"]*)"', disposition)
        if filename:
            files[name.group(1)] = (filename.group(1), value)
        else:
            fields[name.group(1)] = value.decode("utf-8", "replace")
    return fields, files


class SeedServer:
    def __init__(self, data_dir: Path, *, token: str | None = None, port: int = 0):
        self.data_dir = Path(data_dir)
        self.token = token or secrets.token_urlsafe(24)
        self.port = port
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) of every answered request
        self._lock = threading.Lock()
        self._faults: list[SeedFault] = []
        self.faults_fired = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()

    # ------------------------------------------------------------------ life cycle
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + API

    def start(self) -> "SeedServer":
        (self.data_dir / "sessions").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "objects").mkdir(parents=True, exist_ok=True)
        outer = self

        class Handler(_SeedHandler):
            server_impl = outer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="seed-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every live connection (a crashed or restarted server answers nothing more)."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        assert self._thread is not None
        self._thread.join(10)
        self._httpd = None

    def restart(self, down_for: float = 0.5) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def __enter__(self) -> "SeedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ test hooks (Python only, never HTTP)
    def fault(self, route: str, count: int = 1, status: int | None = 503, delay: float = 0.0,
              retry_after: float | None = None) -> None:
        """The next ``count`` requests to ``route`` (a path such as ``/api/v1/videos/chunk``, fnmatch patterns
        allowed) wait ``delay`` s, then answer ``status`` (None: then they are served normally)."""
        with self._lock:
            self._faults.append(SeedFault(route, count, status, delay, retry_after))

    def faults_pending(self) -> list[SeedFault]:
        with self._lock:
            return list(self._faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def revoke(self) -> None:
        self.token = "revoked-" + secrets.token_hex(8)

    def login_again(self) -> str:
        self.token = secrets.token_urlsafe(24)
        return self.token

    def forget_sessions(self) -> None:
        with self._lock:
            for d in (self.data_dir / "sessions").iterdir():
                shutil.rmtree(d, ignore_errors=True)

    def held_parts(self, session_id: str) -> tuple[str, list[tuple[int, int]]]:
        """``(state, [(chunkIndex, size)])`` of a session: "open", "finalized" or "unknown"."""
        d = self._session_dir(session_id)
        if d is None or not d.is_dir():
            return "unknown", []
        meta = json.loads((d / "session.json").read_text())
        if meta.get("finalized"):
            return "finalized", [tuple(p) for p in meta["finalizedParts"]]
        return "open", sorted((int(p.stem), p.stat().st_size) for p in d.glob("*.part"))

    def object_path(self, url: str) -> Path:
        key = url.split("/cdn/", 1)[1]
        return self.data_dir / "objects" / key

    # ------------------------------------------------------------------ request handling
    def _take_fault(self, path: str) -> SeedFault | None:
        with self._lock:
            for rule in self._faults:
                if rule.route == path or fnmatch.fnmatchcase(path, rule.route):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._faults.remove(rule)
                    self.faults_fired += 1
                    return rule
        return None

    def _session_dir(self, session_id: str) -> Path | None:
        if not isinstance(session_id, str) or not re.fullmatch(r"[0-9a-f]{32}", session_id):
            return None
        return self.data_dir / "sessions" / session_id

    def _open_session(self, session_id: object) -> Path:
        d = self._session_dir(session_id)  # type: ignore[arg-type]
        if d is None or not (d / "session.json").is_file():
            raise HttpError(404, "Session not found")
        if json.loads((d / "session.json").read_text()).get("finalized"):
            raise HttpError(404, "Session not found")
        return d

    def screenshot(self, fields: dict, files: dict) -> dict:
        if "file" not in files:
            raise HttpError(400, "missing file")
        _name, data = files["file"]
        if not data.startswith(PNG_SIGNATURE):
            raise HttpError(415, "file is not a PNG image")
        key = f"screenshots/{secrets.token_hex(8)}.png"
        target = self.data_dir / "objects" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return {"url": f"{self.url}/cdn/{key}"}

    def init(self, body: object) -> dict:
        if not isinstance(body, dict) or set(body) != set(INIT_FIELDS):
            raise HttpError(400, f"init takes exactly {sorted(INIT_FIELDS)}")
        for name, kind in INIT_FIELDS.items():
            if not isinstance(body[name], kind) or isinstance(body[name], bool):
                raise HttpError(400, f"{name} has the wrong type")
        if not re.fullmatch(r"\d+x\d+", body["resolution"]) or not re.fullmatch(r"[\w.\- ]+", body["filename"]):
            raise HttpError(400, "bad resolution or filename")
        session_id = secrets.token_hex(16)
        d = self.data_dir / "sessions" / session_id
        d.mkdir(parents=True)
        (d / "session.json").write_text(json.dumps({"init": body, "finalized": False}))
        return {"sessionId": session_id}

    def chunk(self, fields: dict, files: dict) -> dict:
        if "sessionId" not in fields or "chunkIndex" not in fields or "chunk" not in files:
            raise HttpError(400, "chunk takes sessionId, chunkIndex and chunk")
        if not re.fullmatch(r"\d{1,5}", fields["chunkIndex"]):
            raise HttpError(400, "chunkIndex must be a number")
        index = int(fields["chunkIndex"])
        with self._lock:
            d = self._open_session(fields["sessionId"])
            tmp = d / f"{index}.tmp"
            tmp.write_bytes(files["chunk"][1])
            tmp.replace(d / f"{index}.part")
        return {"received": True, "chunkIndex": index}

    def finalize(self, body: object) -> dict:
        if not isinstance(body, dict) or not FINALIZE_FIELDS <= set(body):
            raise HttpError(400, f"finalize takes {sorted(FINALIZE_FIELDS)}")
        total, listed = body["totalChunks"], body["uploadedChunks"]
        if not isinstance(total, int) or not isinstance(listed, list) or listed != list(range(total)) or not total:
            raise HttpError(400, "uploadedChunks must list every chunk 0..totalChunks-1")
        with self._lock:
            d = self._open_session(body["sessionId"])
            sizes = {int(p.stem): p.stat().st_size for p in d.glob("*.part")}
            missing = [i for i in range(total) if i not in sizes]
            if missing or len(sizes) != total:
                raise HttpError(400, f"chunks missing or extra: have {sorted(sizes)}, totalChunks {total}")
            small = [i for i in range(total - 1) if sizes[i] < MIN_PART]
            if small:
                raise HttpError(400, f"chunks {small} are smaller than 5 MB")
            meta = json.loads((d / "session.json").read_text())
            key = f"videos/{body['sessionId']}/{meta['init']['filename']}"
            target = self.data_dir / "objects" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                for i in range(total):
                    with open(d / f"{i}.part", "rb") as part:
                        shutil.copyfileobj(part, out, 1 << 20)
            for i in range(total):
                (d / f"{i}.part").unlink()
            meta.update(finalized=True, finalizedParts=[(i, sizes[i]) for i in range(total)])
            (d / "session.json").write_text(json.dumps(meta))
        return {"key": key, "url": f"{self.url}/cdn/{key}"}


class _SeedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_impl: SeedServer

    def log_message(self, *args) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        with self.server_impl._lock:
            self.server_impl._conns.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server_impl._lock:
                self.server_impl._conns.discard(self.connection)

    _consumed = False

    def _answer(self, status: int, body: dict | bytes, headers: dict | None = None,
                content_type: str = "application/json") -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)
        self.server_impl.requests.append((self.command, self.path, status))

    def _body(self) -> bytes:
        if "Content-Length" not in self.headers:
            raise HttpError(411, "Content-Length required")
        length = int(self.headers["Content-Length"])
        if length > MAX_BODY:
            self.close_connection = True
            raise HttpError(413, "request too large")
        data = self.rfile.read(length)
        if len(data) != length:
            raise ConnectionResetError("short body")
        self._consumed = True
        return data

    def _json(self) -> object:
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            raise HttpError(400, "expected application/json")
        try:
            return json.loads(self._body())
        except ValueError:
            raise HttpError(400, "invalid JSON") from None

    def _route(self) -> dict:
        impl = self.server_impl
        path = self.path.split("?")[0]
        fault = impl._take_fault(path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                if "Content-Length" in self.headers:
                    self._body()  # read and drop, keep the connection usable
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                raise HttpError(fault.status, "injected fault", headers)
        if path.startswith("/cdn/") and self.command == "GET":
            target = (impl.data_dir / "objects" / path[len("/cdn/"):]).resolve()
            if not target.is_relative_to((impl.data_dir / "objects").resolve()) or not target.is_file():
                raise HttpError(404, "Not Found")
            kind = "image/png" if target.suffix == ".png" else "video/webm"
            self._answer(200, target.read_bytes(), content_type=kind)
            return {}
        routes = {f"{API}/screenshots/upload": "screenshot", f"{API}/videos/init": "init",
                  f"{API}/videos/chunk": "chunk", f"{API}/videos/finalize": "finalize"}
        name = routes.get(path)
        if name is None or self.command != "POST":
            raise HttpError(404, "Not Found")
        if self.headers.get("Authorization") != f"Bearer {impl.token}":
            self.close_connection = True
            raise HttpError(401, "Unauthorized")
        if name in ("init", "finalize"):
            return getattr(impl, name)(self._json())
        fields, files = parse_multipart(self.headers.get("Content-Type", ""), self._body())
        return getattr(impl, name)(fields, files)

    def _handle(self) -> None:
        self._consumed = "Content-Length" not in self.headers and "Transfer-Encoding" not in self.headers
        try:
            try:
                result = self._route()
            except HttpError as exc:
                if not self._consumed:  # an unread body would be parsed as the next request: close instead
                    self.close_connection = True
                self._answer(exc.status, {"error": exc.message}, exc.headers)
                return
            if result:
                self._answer(200, result)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle
