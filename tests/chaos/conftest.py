"""Chaos rig: the real reference server (restartable, with a movable clock), the fault proxy in front of it, and a
client journal. Everything on ephemeral ports, torn down with bounded waits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tray.upload.journal import UploadJournal

from .proxy import ChaosProxy


class ChaosServer:
    def __init__(self, data_dir: Path, *, session_idle_expiry: float = 3600.0):
        self.data_dir = data_dir
        self.expiry = session_idle_expiry
        self.clock_offset = 0.0
        self.port = 0
        self.thread = None
        self.token: str | None = None

    def clock(self) -> float:
        return time.time() + self.clock_offset

    def start(self) -> "ChaosServer":
        from snaplark_server.config import ServerConfig
        from snaplark_server.runner import ServerThread
        from snaplark_server.users import ensure_local_user

        config = ServerConfig(port=self.port, data_dir=self.data_dir, fault_injection=True,
                              session_idle_expiry=self.expiry, cleanup_interval=3600.0)
        self.thread = ServerThread(config, clock=self.clock).start()
        self.port = self.thread.port
        if self.token is None:
            self.token = ensure_local_user(self.data_dir, "alice")
        return self

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

    def fault(self, **rule) -> None:
        requests.post(self.url + "/_faults", json=rule, timeout=5).raise_for_status()

    def faults_pending(self) -> list:
        return requests.get(self.url + "/_faults", timeout=5).json()["rules"]

    def clear_faults(self) -> None:
        requests.delete(self.url + "/_faults", timeout=5).raise_for_status()

    def _db(self):
        from snaplark_server.db import Database

        return Database.in_data_dir(self.data_dir)

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

    def status(self, session_id: str) -> dict:
        r = requests.get(f"{self.api_url}/videos/{session_id}/status",
                         headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        r.raise_for_status()
        return r.json()


@pytest.fixture
def chaos_server(tmp_path):
    srv = ChaosServer(tmp_path / "server-data", session_idle_expiry=600.0).start()
    yield srv
    srv.stop()


@pytest.fixture
def proxy(chaos_server):
    p = ChaosProxy(chaos_server.port).start()
    yield p
    p.stop()


@pytest.fixture
def journal(tmp_path):
    j = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    yield j
    j.close()
