"""Fixtures for the reference server's integration tests: real uvicorn on ephemeral ports, both storage backends
(local disk and S3 multipart against moto's ThreadedMotoServer over real HTTP)."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from snaplark_server.config import MiB, ServerConfig
from snaplark_server.runner import ServerThread
from snaplark_server.users import UserError, create_user, issue_token

BACKENDS = ["local", "s3"]
# SNAPLARK_TEST_DATABASE=postgres: every server these tests start runs on PostgreSQL unless a test names its database
# (a whole-suite check of the SQL on PostgreSQL; a few tests that open the SQLite file themselves then fail)
DEFAULT_DATABASE = os.environ.get("SNAPLARK_TEST_DATABASE", "sqlite")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class RunningTestServer:
    thread: ServerThread
    token: str
    backend: str
    data_dir: Path
    database: str = "sqlite"

    @property
    def url(self) -> str:
        return self.thread.url

    @property
    def api_url(self) -> str:
        return self.thread.api_url

    @property
    def service(self):
        return self.thread.service

    @property
    def db(self):
        return self.thread.app.state.db

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}", "Accept": "application/json"}

    def add_user(self, name: str) -> str:
        return create_user(self.db, name)


@pytest.fixture
def make_server(tmp_path_factory, request) -> Iterator[Callable[..., RunningTestServer]]:
    started: list[ServerThread] = []

    def factory(backend: str = "local", **overrides) -> RunningTestServer:
        """``database="postgres"``: on a PostgreSQL database of the test's own (every server of the test shares it; with
        local storage the data dir is declared shared: pass the same ``data_dir`` to share it too)."""
        data_dir = tmp_path_factory.mktemp(f"srv-{backend}")
        cfg = dict(data_dir=data_dir, port=0, storage=backend, cleanup_interval=3600.0)
        database = overrides.pop("database", DEFAULT_DATABASE)
        if database == "postgres":
            if not databases:  # one per test, dropped after its servers stopped
                cluster = request.getfixturevalue("postgres_cluster")
                databases.append((cluster, cluster.create_database()))
            cfg.update(database_url=databases[0][1], shared_data_dir=backend == "local")
        if backend == "s3":
            endpoint = request.getfixturevalue("moto_endpoint")
            cfg.update(s3_bucket=f"snaplark-{uuid.uuid4().hex[:12]}", s3_endpoint_url=endpoint,
                       s3_region="us-east-1")
        clock = overrides.pop("clock", None)
        free_space = overrides.pop("free_space", None)
        cfg.update(overrides)
        config = ServerConfig(**cfg)
        thread = ServerThread(config, free_space=free_space, **({"clock": clock} if clock else {}))
        thread.start()
        started.append(thread)
        try:
            token = create_user(thread.app.state.db, "alice")
        except UserError:  # a second instance on the same PostgreSQL database
            token = issue_token(thread.app.state.db, "alice")
        return RunningTestServer(thread=thread, token=token, backend=backend, data_dir=config.data_dir,
                                 database=database)

    databases: list = []  # (PostgresCluster, url) of this test's database (tests/postgres.py)

    yield factory
    for t in started:
        t.stop()
    for cluster, url in databases:
        cluster.drop_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def srv(make_server, backend) -> RunningTestServer:
    return make_server(backend)


DATABASES = ["sqlite", "postgres"]


@pytest.fixture(params=DATABASES)
def database(request) -> str:
    return request.param


@pytest.fixture
def srv_db(make_server, backend, database) -> RunningTestServer:
    """``srv`` on each metadata database too: a module whose tests must hold on PostgreSQL as well defines its
    ``srv`` fixture as this one (test_video_api.py)."""
    return make_server(backend, database=database)


@pytest.fixture
def local_srv(make_server) -> RunningTestServer:
    return make_server("local")


# --- tiny seed-shaped client helpers (raw requests; used by many tests) --------------------------------------

SEED_INIT = {"filename": "recording-1700000000000.webm", "timestamp": 1700000000000, "fps": 30, "codec": "vp9",
             "bitrate": 2500000, "resolution": "1920x1080"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def init_session(s: RunningTestServer, token: str | None = None) -> str:
    r = requests.post(f"{s.api_url}/videos/init", json=SEED_INIT, headers=s.headers(token), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["sessionId"]


def send_chunk(s: RunningTestServer, session_id: str, index: int, data: bytes, *, sha256: str | None = None,
               token: str | None = None, http=requests) -> requests.Response:
    fields = {"sessionId": session_id, "chunkIndex": str(index)}
    if sha256 is not None:
        fields["sha256"] = sha256
    return http.post(f"{s.api_url}/videos/chunk", data=fields,
                     files={"chunk": (f"chunk_{index}.webm", data, "video/webm")},
                     headers=s.headers(token), timeout=60)


def finalize(s: RunningTestServer, session_id: str, total: int, *, uploaded=None, token: str | None = None,
             http=requests, **extra) -> requests.Response:
    body = {"sessionId": session_id, "totalChunks": total,
            "uploadedChunks": list(range(total)) if uploaded is None else uploaded,
            "duration": 12.5, "metadata": {"fps": 30}, **extra}
    return http.post(f"{s.api_url}/videos/finalize", json=body, headers=s.headers(token), timeout=120)


EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # a WebM file's first bytes: the server checks part 0 for them at finalize


def make_parts(sizes: list[int], seed: int = 0) -> list[bytes]:
    """Parts of a "video": deterministic bytes, part 0 starting with the WebM (EBML) signature."""
    out = []
    for i, n in enumerate(sizes):
        block = hashlib.sha256(f"{seed}-{i}".encode()).digest()
        data = (block * (n // len(block) + 1))[:n]
        out.append((EBML_MAGIC + data)[:n] if i == 0 else data)
    return out


def webm_bytes(n: int, fill: bytes = b"v") -> bytes:
    """``n`` bytes that start like a WebM file."""
    return (EBML_MAGIC + fill * n)[:n]


FIVE_MIB = 5 * MiB


def stored_files(s: RunningTestServer) -> list[Path]:
    """Every file under the server's data dir except the database (to check 'nothing stored')."""
    return sorted(p for p in s.data_dir.rglob("*") if p.is_file() and "sqlite3" not in p.name)


# --- the server as a separate process (CLI) --------------------------------------------------------------------


def start_cli_server(data_dir: Path, *extra: str, global_args: tuple = (), timeout: float = 30.0, stderr=None):
    """Start ``python -m snaplark_server serve --port 0`` and return (Popen, url) once it listens.
    ``stderr``: an open file for the server's log (default: discarded)."""
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "snaplark_server", "--data-dir", str(data_dir), *global_args, "serve", "--port", "0", *extra],
        stdout=subprocess.PIPE, stderr=stderr if stderr is not None else subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line:
            url = line.strip().rsplit(" ", 1)[-1]
            while time.monotonic() < deadline:  # the socket listens already; wait for the app's start-up
                try:
                    if requests.get(url + "/health", timeout=2).status_code == 200:
                        return proc, url
                except requests.exceptions.ConnectionError:
                    pass
                time.sleep(0.05)
            break
        if not line and proc.poll() is not None:
            break
    stop_process(proc)
    raise RuntimeError(f"server did not start: {line!r}")


def stop_process(proc, timeout: float = 10.0) -> None:
    import subprocess

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    if proc.stdout:
        proc.stdout.close()
