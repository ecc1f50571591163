"""Helpers shared by the upload integration and chaos tests (real server, real SQLite, real files)."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from pathlib import Path
from urllib.parse import urlsplit

from tray.api.client import ApiClient
from tray.upload.backoff import Sleeper
from tray.upload.engine import UploadEngine
from tray.upload.journal import UploadJournal

MIB = 1024 * 1024


class TokenHolder:
    """What the token store would give the client; tests swap the token to simulate a new login."""

    def __init__(self, token: str | None):
        self.token = token

    def __call__(self) -> str | None:
        return self.token


EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # a WebM file's first bytes: the reference server checks them at finalize


def with_webm_magic(offset: int, block: bytes) -> bytes:
    """``block`` (written at ``offset``) with a WebM's first bytes where it covers the start of the file."""
    if offset >= len(EBML_MAGIC):
        return block
    head = EBML_MAGIC[offset:offset + len(block)]
    return head + block[len(head):]


def write_random(path: Path, size: int, seed: int = 0) -> str:
    """``size`` random bytes that start like a WebM (EBML magic); returns their sha256."""
    rng = random.Random(seed)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, MIB)
            block = with_webm_magic(size - left, rng.randbytes(n))
            f.write(block)
            h.update(block)
            left -= n
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def make_engine(api_url: str, tokens, journal: UploadJournal, *, events=None, scale: float = 0.01,
                read_timeout: float = 30.0, connect_timeout: float = 5.0, **kwargs) -> UploadEngine:
    def factory() -> ApiClient:
        return ApiClient(api_url, tokens, connect_timeout=connect_timeout, min_read_timeout=read_timeout,
                         min_throughput=1 << 30)

    on_event = events.append if events is not None else None
    return UploadEngine(factory, journal, sleeper=Sleeper(scale=scale), rng=random.Random(1), on_event=on_event,
                        server_url=api_url, **kwargs)


def download_sha(server_url: str, url: str, token: str | None = None) -> str:
    """sha256 of a served file, fetched from the server itself (not through any proxy). A share page's link (what
    the CLI prints with upload.copy = "page") stands for the file the page names."""
    from tests.share_links import file_of

    path = urlsplit(file_of(url)).path
    client = ApiClient(server_url + "/api/v1", lambda: token)
    try:
        h = hashlib.sha256()

        class _Sink:
            def write(self, b):
                h.update(b)

        client.download(server_url + path, _Sink())
        return h.hexdigest()
    finally:
        client.close()


class GrowingFile:
    """Writes ``size`` random bytes (the first four a WebM's EBML magic) in ``step`` increments, fsyncs, and reports
    durability to a sink; at the end rewrites ~386 bytes at offset 40 (as the WebM muxer does) and calls
    ``finished``. Runs on its own thread."""

    def __init__(self, path: Path, size: int, *, step: int = 700 * 1024, seed: int = 1, pause: float = 0.0,
                 header_rewrite: bool = True, hold_at: int | None = None, hold_timeout: float = 30.0):
        self.path = path
        self.size = size
        self.step = step
        self.seed = seed
        self.pause = pause
        self.header_rewrite = header_rewrite
        self.written = 0
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.gate = threading.Event()  # optional: tests may hold the writer at a point
        self.gate.set()
        self.hold_at = hold_at  # the writer closes the gate itself once this many bytes are written
        self.hold_timeout = hold_timeout
        self._hold_lock = threading.Lock()
        path.write_bytes(b"")

    def start(self, sink) -> "GrowingFile":
        self._thread = threading.Thread(target=self._run, args=(sink,), name="growing-file", daemon=True)
        self._thread.start()
        return self

    def _run(self, sink) -> None:
        try:
            rng = random.Random(self.seed)
            with open(self.path, "r+b") as f:
                while self.written < self.size:
                    with self._hold_lock:
                        if self.hold_at is not None and self.written >= self.hold_at:
                            self.hold_at = None
                            self.gate.clear()
                    if not self.gate.wait(self.hold_timeout):
                        raise TimeoutError(f"gate closed for {self.hold_timeout} s")
                    n = min(self.step, self.size - self.written)
                    f.seek(self.written)
                    f.write(with_webm_magic(self.written, rng.randbytes(n)))
                    f.flush()
                    os.fsync(f.fileno())
                    self.written += n
                    sink.durable(self.written)
                    if self.pause:
                        threading.Event().wait(self.pause)
                if self.header_rewrite:
                    f.seek(40)
                    f.write(rng.randbytes(386))
                    f.flush()
                    os.fsync(f.fileno())
            sink.finished(self.size, 12.5, {"resolution": "1280x720"})
        except BaseException as exc:  # surfaced by join()
            self.error = exc

    def release(self) -> None:
        """Let the writer go on to the end (cancels a hold that has not happened yet)."""
        with self._hold_lock:
            self.hold_at = None
            self.gate.set()

    def join(self, timeout: float = 60.0) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "writer did not finish"
        if self.error:
            raise self.error
