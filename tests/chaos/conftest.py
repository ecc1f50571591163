"""Chaos rig: a real server of each kind (``tests/server_kinds.py``: the reference server, restartable with a movable
clock, and the strict seed-only server), the fault proxy in front of it, and a client journal. Everything on
ephemeral ports, torn down with bounded waits."""

from __future__ import annotations

import pytest

from tests.server_kinds import KINDS, start_kind
from tray.upload.journal import UploadJournal

from .proxy import ChaosProxy


@pytest.fixture(params=KINDS)
def chaos_server(request, tmp_path):
    srv = start_kind(request, tmp_path / "server-data", session_idle_expiry=600.0)
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
