"""The two kinds of server the client is tested against, behind one test interface:

``reference``  our snaplark-server (seed + every extension), in-process, with its fault hook and a movable clock;
``seed``       :class:`tests.seed_server.SeedServer`, a strict server that speaks only the seed document;
``postgres``   the reference server on a real PostgreSQL (tests/postgres.py) instead of SQLite;
``balanced``   two reference instances on one PostgreSQL behind an nginx round-robin balancer (balanced_server.py).

Both offer: ``url``, ``api_url``, ``token``, ``start/stop/restart``, ``fault(route, count, status, delay,
retry_after)``, ``faults_pending()``, ``clear_faults()``, ``held_parts(session_id) -> (state, [(index, size)])``,
``revoke()``, ``login_again()``, ``expire_sessions()`` (every open session is forgotten, as an expiry would do)
and ``file_sha256(url)`` (the server's copy, read back through its own URL).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
import requests

from tests.seed_server import SeedServer

KINDS = ["reference", "seed", "postgres", "balanced"]


class ReferenceServer:
    kind = "reference"

    def __init__(self, data_dir: Path, *, session_idle_expiry: float = 3600.0, database_url: str | None = None):
        self.data_dir = data_dir
        self.database_url = database_url
        self.expiry = session_idle_expiry
        self.clock_offset = 0.0
        self.port = 0
        self.thread = None
        self.token: str | None = None

    def clock(self) -> float:
        return time.time() + self.clock_offset

    def start(self) -> "ReferenceServer":
        from snaplark_server.runner import ServerThread
        from snaplark_server.users import rotate_token

        config = self._config(port=self.port, fault_injection=True, session_idle_expiry=self.expiry,
                              cleanup_interval=3600.0)
        self.thread = ServerThread(config, clock=self.clock).start()
        self.port = self.thread.port
        if self.token is None:
            self.token = rotate_token(self.thread.app.state.db, "alice")
        return self

    def _config(self, **values):
        from snaplark_server.config import ServerConfig

        if self.database_url is not None:  # one instance, so its local data dir is the "shared" one
            values.update(database_url=self.database_url, shared_data_dir=True)
        return ServerConfig(data_dir=self.data_dir, **values)

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop(timeout=10)
            self.thread = None

    def restart(self, down_for: float = 0.5) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/v1"

    def fault(self, route: str, count: int = 1, status: int | None = 503, delay: float = 0.0,
              retry_after: float | None = None) -> None:
        self.thread.faults.add(route, count=count, status=status, delay=delay, retry_after=retry_after)

    @property
    def faults_fired(self) -> int:
        return self.thread.faults.fired

    def faults_pending(self) -> list:
        return requests.get(self.url + "/_faults", timeout=5).json()["rules"]

    def clear_faults(self) -> None:
        self.thread.faults.clear()

    def _db(self):
        from snaplark_server.databases import open_database

        return open_database(self._config())

    def revoke(self) -> None:
        from snaplark_server.users import revoke_token

        db = self._db()
        try:
            assert revoke_token(db, "alice")
        finally:
            db.close()

    def login_again(self) -> str:
        from snaplark_server.users import rotate_token

        db = self._db()
        try:
            self.token = rotate_token(db, "alice")
        finally:
            db.close()
        return self.token

    def expire_sessions(self) -> None:
        """Every open session expires: the server's clock jumps past the idle expiry and its cleanup round runs at
        once, as the leader's loop would. A chunk request that holds a session's lock when the clock jumps touches
        the session with the new time, and the cleanup then finds it fresh (with 64 KiB streaming parts one is
        nearly always in flight; CI saw it on the balanced and the PostgreSQL kinds) -- so the clock jumps again
        until none of the sessions open at the call is left (a session the client opens meanwhile lives on)."""
        service = self.thread.app.state.service

        def open_ids() -> set:
            return {row["id"] for row in service.db.query("SELECT id FROM sessions WHERE state = 'open'")}

        doomed = open_ids()
        for _ in range(50):
            self.clock_offset += 2 * self.expiry
            service.cleanup_expired()
            if not doomed & open_ids():
                return
            time.sleep(0.02)
        raise AssertionError(f"open sessions {sorted(doomed & open_ids())} survived 50 expiry rounds")

    def status(self, session_id: str) -> dict:
        r = requests.get(f"{self.api_url}/videos/{session_id}/status",
                         headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def held_parts(self, session_id: str) -> tuple[str, list[tuple[int, int]]]:
        status = self.status(session_id)
        return status["state"], sorted((p["chunkIndex"], p["size"]) for p in status["parts"])

    def file_sha256(self, url: str) -> str:
        from tests.integration.upload.helpers import download_sha

        return download_sha(self.url, url, self.token)


class SeedKind(SeedServer):
    kind = "seed"

    def expire_sessions(self) -> None:
        self.forget_sessions()

    def file_sha256(self, url: str) -> str:
        r = requests.get(url, timeout=30)  # served like a CDN: straight from the URL finalize gave
        r.raise_for_status()
        return hashlib.sha256(r.content).hexdigest()


def make_server(kind: str, data_dir: Path, **kwargs):
    if kind in ("reference", "postgres"):
        return ReferenceServer(data_dir, **kwargs)
    if kind == "balanced":
        from tests.balanced_server import BalancedServer

        return BalancedServer(data_dir, **kwargs)
    assert kind == "seed", kind
    return SeedKind(data_dir)


def start_kind(request, data_dir: Path, **kwargs):
    """A started server of the kind ``request.param`` names; the PostgreSQL kinds get a fresh database of the
    session's cluster (the ``postgres_url`` fixture)."""
    if request.param in ("postgres", "balanced"):
        kwargs["database_url"] = request.getfixturevalue("postgres_url")
    return make_server(request.param, data_dir, **kwargs).start()


@pytest.fixture(params=KINDS, name="server")
def server_each_kind(request, tmp_path):
    """``server`` of each kind: import this into a test module to run its tests against both (it overrides the
    reference-only ``server`` fixture of tests/conftest.py). ``indirect`` parametrization picks one kind."""
    srv = start_kind(request, tmp_path / "server-data")
    yield srv
    srv.stop()
