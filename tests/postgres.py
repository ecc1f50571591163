"""A real PostgreSQL for the tests (Debian's ``postgresql`` package, see .ci/apt-packages): ``initdb`` and
``postgres`` in a private temp dir, listening only on a unix socket there (no TCP port to collide on). PostgreSQL
refuses to run as root: as root the cluster belongs to ``nobody`` (``setpriv``), its directory chowned to it.

`PostgresCluster.create_database()` gives each test a database of its own (dropped by `drop_database`); the
cluster itself is started once per test session by the ``postgres_cluster`` fixture (tests/conftest.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.procutil import REQUIRE_ALL, stop_process

SUPERUSER = "snaplark"
START_TIMEOUT = 60.0


def postgres_bin(name: str) -> str | None:
    """``initdb``/``postgres``: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


def need_postgres() -> None:
    import pytest

    missing = [n for n in ("initdb", "postgres") if postgres_bin(n) is None]
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        missing.append("psycopg[binary] + psycopg-pool (pip install -e '.[dev]')")
    if missing:
        msg = f"needs {', '.join(missing)} (apt-get install postgresql; .ci/run does)"
        pytest.fail(msg) if REQUIRE_ALL else pytest.skip(msg)


class PostgresCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="snaplark-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.proc: subprocess.Popen | None = None

    def _as_owner(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]

    def start(self) -> "PostgresCluster":
        if os.geteuid() == 0:
            shutil.chown(self.root, "nobody", "nogroup")
        subprocess.run([*self._as_owner(), postgres_bin("initdb"), "-D", str(self.data), "-U", SUPERUSER,
                        "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                       cwd=self.root, check=True, capture_output=True, timeout=120)
        return self._launch()

    def _launch(self) -> "PostgresCluster":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*self._as_owner(), postgres_bin("postgres"), "-D", str(self.data), "-k", str(self.root),
                 "-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=32MB"],
                cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.admin("SELECT 1")
                return self
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"PostgreSQL did not start: {self.log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.root}"

    def admin(self, sql: str) -> None:
        """Run ``sql`` as the superuser on the maintenance database."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        """A new empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.split("?")[0].rsplit("/", 1)[1]
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def restart(self) -> None:
        """What ``pg_ctl restart -m fast`` does: every connection is cut, the same cluster starts again."""
        self._shutdown()
        self._launch()

    def _shutdown(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: clients still connected are cut
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stop_process(self.proc, timeout=5)
            self.proc = None

    def stop(self) -> None:
        self._shutdown()
        shutil.rmtree(self.root, ignore_errors=True)
