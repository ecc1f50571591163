"""PostgreSQL metadata store: the same small interface as the SQLite `Database` (db.py), for running several server
instances on one database (``database_url = "postgresql://..."``).

Interface (both databases): ``write()`` (a transaction; yields a connection with ``execute(sql, params)``),
``query``/``query_one``/``execute``, ``lock(name)`` (serialise work on one upload session), ``serialize(conn,
name)`` (inside ``write()``: no other transaction holding the same name runs at once), ``is_leader()`` (may this
instance run the expiry/cleanup loop), ``check()`` (the deep health check), ``close()``. SQL is written once, in
SQLite's spelling; sql_dialect.py translates it.

Threading contract: any number of threads; connections come from a psycopg_pool pool (``database_pool_size``).
``lock(name)`` takes the process's own lock for the name first, then a session-level advisory lock on a pool
connection that stays bound to the thread until the lock is released: every query and transaction of that thread
inside the lock runs on it, so a thread never holds two connections and a full pool cannot deadlock. A crashed
instance's connections close and PostgreSQL releases their locks.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import threading
import time
from decimal import Decimal
from typing import Any, Iterator

import psycopg
from psycopg.adapt import Loader
from psycopg_pool import ConnectionPool

from .errors import DatabaseUnavailable
from .locks import KeyedLocks
from .sql_dialect import split_statements, to_postgres

log = logging.getLogger(__name__)

LEADER_LOCK = "snaplark:cleanup-leader"
MIGRATION_LOCK = "snaplark:schema-migration"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def redact_url(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    host = info.get("host", "")
    return f"postgresql://{info.get('user', '')}@{host}:{info.get('port', '5432')}/{info.get('dbname', '')}"


class Row(tuple):
    """A result row readable by position and by column name, like ``sqlite3.Row``."""

    names: dict[str, int]

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"names": {name: i for i, name in enumerate(names)}})


def _row_factory(cursor):
    cls = _row_class(tuple(c.name for c in cursor.description or ()))
    return lambda values: cls(values)


class _NumericLoader(Loader):
    """numeric (e.g. ``SUM`` of a bigint column) as int when whole, else float, as SQLite gives them."""

    def load(self, data) -> Any:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class PgConnection:
    """What ``write()`` yields: ``execute(sql, params)`` in SQLite's spelling, returning a cursor (fetchone/all)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.raw = conn

    def execute(self, sql: str, params: tuple | dict = ()) -> psycopg.Cursor:
        cur = self.raw.cursor(row_factory=_row_factory)
        return cur.execute(to_postgres(sql), params)  # always parsed: a literal % was doubled


class PostgresDatabase:
    """See the module docstring."""

    kind = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 10, migrate: bool = True, connect_timeout: float = 30.0,
                 timeout: float = 10.0) -> None:
        """``timeout``: seconds a request waits for a pooled connection before `DatabaseUnavailable` (503)."""
        from .db import SCHEMA_VERSION

        self.url = url
        self.path = None  # no file: the deep health check asks the server (check())
        self.schema_version = SCHEMA_VERSION
        self._local = threading.local()
        self._process_locks = KeyedLocks()
        self._leader: psycopg.Connection | None = None
        self._leader_guard = threading.Lock()
        self._pool = ConnectionPool(url, min_size=1, max_size=max(1, pool_size), open=False, timeout=timeout,
                                    kwargs={"autocommit": True, "connect_timeout": max(1, int(timeout))},
                                    configure=self._configure,
                                    check=ConnectionPool.check_connection, name="snaplark")
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except Exception as exc:
            self._pool.close()
            raise RuntimeError(f"cannot connect to the database {redact_url(url)}: {exc}") from None
        if migrate:
            self.upgrade()

    @staticmethod
    def _configure(conn: psycopg.Connection) -> None:
        conn.adapters.register_loader("numeric", _NumericLoader)

    # --- connections -------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """The thread's bound connection, else one from the pool for the block; a lost or unreachable server
        (psycopg's OperationalError, the pool's timeout) is `DatabaseUnavailable`."""
        try:
            bound = getattr(self._local, "conn", None)
            if bound is not None:
                yield bound
                return
            with self._pool.connection() as conn:
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"database {redact_url(self.url)}: {type(exc).__name__}: {exc}") from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[PgConnection]:
        """A transaction (committed at the end, rolled back on an exception)."""
        with self._connection() as conn:
            with conn.transaction():
                yield PgConnection(conn)

    def query(self, sql: str, params: tuple | dict = ()) -> list[Row]:
        with self._connection() as conn:
            return PgConnection(conn).execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | dict = ()) -> Row | None:
        with self._connection() as conn:
            return PgConnection(conn).execute(sql, params).fetchone()

    def execute(self, sql: str, params: tuple | dict = ()) -> Any:
        with self.write() as conn:
            return conn.execute(sql, params)

    # --- cross-instance serialisation ------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold ``name`` against every thread of every instance (re-entrant in one thread)."""
        held: dict[str, int] = self._local.__dict__.setdefault("held", {})
        with self._process_locks.hold(name):
            if held.get(name):
                held[name] += 1
                try:
                    yield
                finally:
                    held[name] -= 1
                return
            with self._connection() as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(name),))
                held[name] = 1
                try:
                    yield
                finally:
                    del held[name]
                    self._unlock(conn, name)

    @staticmethod
    def _unlock(conn: psycopg.Connection, name: str) -> None:
        try:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(name),))
        except psycopg.Error:  # the lock dies with the connection: never hand a connection on that may hold it
            log.warning("could not release the database lock %s; closing its connection", name)
            conn.close()

    def forget_lock(self, name: str) -> None:
        self._process_locks.forget(name)

    def serialize(self, conn: PgConnection, name: str) -> None:
        """Inside ``write()``: wait until no other transaction holds ``name``; held until this one ends."""
        conn.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name),))

    def is_leader(self) -> bool:
        """Whether this instance holds the cleanup leader lock (taken when free; kept while its connection lives)."""
        with self._leader_guard:
            if self._leader is not None:
                try:
                    self._leader.execute("SELECT 1")
                    return True
                except psycopg.Error:
                    log.warning("lost the connection that held the cleanup leader lock")
                    self._leader.close()
                    self._leader = None
            try:
                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                log.warning("cleanup leader election: cannot connect: %s", exc)
                return False
            if conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(LEADER_LOCK),)).fetchone()[0]:
                self._leader = conn
                log.info("this instance runs the expiry and cleanup loop (leader)")
                return True
            conn.close()
            return False

    # --- schema --------------------------------------------------------------------------------------------------

    def current_version(self) -> int:
        row = self.query_one("SELECT to_regclass('snaplark_schema') IS NOT NULL")
        if not row[0]:
            return 0
        return self.query_one("SELECT version FROM snaplark_schema")[0]

    def upgrade(self) -> tuple[int, int]:
        """Apply the missing migrations in one transaction, one instance at a time; (version before, after)."""
        from .db import _MIGRATIONS

        with self.write() as conn:
            self.serialize(conn, MIGRATION_LOCK)
            conn.execute("CREATE TABLE IF NOT EXISTS snaplark_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM snaplark_schema").fetchone()
            if row is None:
                conn.execute("INSERT INTO snaplark_schema (version) VALUES (0)")
            before = row[0] if row is not None else 0
            if before > self.schema_version:
                raise RuntimeError(f"{redact_url(self.url)}: database schema version {before} is newer than this "
                                   f"server ({self.schema_version}); upgrade the server")
            for target in range(before + 1, self.schema_version + 1):
                for statement in split_statements(_MIGRATIONS[target]):
                    conn.execute(statement)
                conn.execute("UPDATE snaplark_schema SET version = ?", (target,))
        if before < self.schema_version:
            log.info("database schema upgraded from version %d to %d", before, self.schema_version)
        return before, self.schema_version

    # --- health, close -----------------------------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """The deep health check: a query on a pool connection."""
        t0 = time.perf_counter()
        try:
            n = self.query_one("SELECT COUNT(*) FROM sessions WHERE state = 'open'")[0]
        except Exception as exc:  # a pool timeout, a lost server
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "ms": round((time.perf_counter() - t0) * 1e3, 1)}
        return {"ok": True, "openSessions": n, "ms": round((time.perf_counter() - t0) * 1e3, 1)}

    def close(self) -> None:
        with self._leader_guard:
            if self._leader is not None:
                self._leader.close()
                self._leader = None
        self._pool.close()
