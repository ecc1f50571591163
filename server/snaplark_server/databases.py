"""Which metadata database a server uses: SQLite in the data dir (db.py, the default) or PostgreSQL when the
config has a ``database_url`` (pg.py). Both have the same interface; see pg.py's docstring."""

from __future__ import annotations

import os
from typing import Any

from .config import ConfigError, ServerConfig
from .db import Database

DATABASE_URL_ENV = "SNAPLARK_DATABASE_URL"


def open_database(config: ServerConfig, *, upgrade: bool | None = None) -> Any:
    """The configured database, its schema upgraded when ``upgrade`` (default: ``database_upgrade_at_start``).
    PostgreSQL with an older schema and no upgrade: `ConfigError` saying to run ``snaplark-server db upgrade``."""
    if not config.database_url:
        return Database.in_data_dir(config.data_dir)  # SQLite migrates at open, as it always did
    try:
        from .pg import PostgresDatabase
    except ImportError as exc:
        raise ConfigError(f"database_url: PostgreSQL needs psycopg 3 (pip install 'snaplark-tray[postgres]'): "
                          f"{exc}") from None
    upgrade = config.database_upgrade_at_start if upgrade is None else upgrade
    db = PostgresDatabase(config.database_url, pool_size=config.database_pool_size, migrate=upgrade,
                          timeout=config.database_timeout)
    if not upgrade:
        version = db.current_version()
        if version != db.schema_version:
            db.close()
            raise ConfigError(f"database schema version {version}, this server needs {db.schema_version}: run "
                              "snaplark-server db upgrade (or set database_upgrade_at_start = true)")
    return db


def upgrade_database(config: ServerConfig) -> tuple[int, int]:
    """``snaplark-server db upgrade``: apply the missing migrations; (version before, version after)."""
    if not config.database_url:
        db = Database.in_data_dir(config.data_dir)
        try:
            return db.upgrade()
        finally:
            db.close()
    from .pg import PostgresDatabase

    db = PostgresDatabase(config.database_url, pool_size=1, migrate=False)
    try:
        return db.upgrade()
    finally:
        db.close()


def env_database_url() -> str | None:
    return os.environ.get(DATABASE_URL_ENV) or None
