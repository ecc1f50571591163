"""The database a ``snaplark-server`` process uses: SQLite in the data dir when no URL is given (unchanged), else
PostgreSQL from --database-url / $SNAPLARK_DATABASE_URL / the config file; ``db upgrade``; the refusals."""

from __future__ import annotations

import requests

from snaplark_server.db import DB_FILENAME, SCHEMA_VERSION

from .conftest import start_cli_server, stop_process
from .test_cli_users import run_cli


def test_serve_without_a_database_url_keeps_sqlite_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("SNAPLARK_DATABASE_URL", raising=False)
    proc, url = start_cli_server(tmp_path, "--metrics-public")
    try:
        token = run_cli(tmp_path, "user", "add", "dana").stdout.strip().splitlines()[-1]
        assert requests.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).json() == \
            {"user": "dana"}
        deep = requests.get(f"{url}/health?deep=1", timeout=10).json()
        assert deep["checks"]["database"]["ok"] is True
    finally:
        stop_process(proc)
    assert (tmp_path / DB_FILENAME).is_file()
    assert run_cli(tmp_path, "db", "upgrade").stdout.strip() == f"database schema at version {SCHEMA_VERSION} " \
        "(already up to date)"


def test_postgres_from_the_environment_for_db_upgrade_user_admin_and_serve(tmp_path, monkeypatch, postgres_url):
    monkeypatch.setenv("SNAPLARK_DATABASE_URL", postgres_url)
    first = run_cli(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"database schema at version {SCHEMA_VERSION} (upgraded from 0)"
    assert run_cli(tmp_path, "db", "upgrade").stdout.strip().endswith("(already up to date)")
    added = run_cli(tmp_path, "user", "add", "erin")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    config = tmp_path / "server.toml"
    config.write_text("shared_data_dir = true\nmetrics_public = true\n")
    proc, url = start_cli_server(tmp_path / "data", global_args=("--config", str(config)))
    try:
        me = requests.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.json() == {"user": "erin"}  # the user the CLI added in PostgreSQL, not in a SQLite file
        deep = requests.get(f"{url}/health?deep=1", timeout=10).json()
        assert deep["checks"]["database"]["ok"] is True and deep["checks"]["database"]["openSessions"] == 0
    finally:
        stop_process(proc)
    assert not (tmp_path / "data" / DB_FILENAME).exists() and not (tmp_path / DB_FILENAME).exists()


def test_postgres_with_local_storage_is_refused_unless_the_data_dir_is_shared(tmp_path, monkeypatch, postgres_url):
    monkeypatch.delenv("SNAPLARK_DATABASE_URL", raising=False)
    r = run_cli(tmp_path, "serve", "--port", "0", "--database-url", postgres_url, timeout=30)
    assert r.returncode == 2
    assert "shared_data_dir = true" in r.stderr and "storage = 's3'" in r.stderr
    bad = run_cli(tmp_path, "serve", "--port", "0", "--database-url", "mysql://x/y", timeout=30)
    assert bad.returncode == 2 and "database_url: expected postgresql://" in bad.stderr


def test_serve_refuses_an_old_schema_when_told_not_to_upgrade(tmp_path, monkeypatch, postgres_url):
    monkeypatch.delenv("SNAPLARK_DATABASE_URL", raising=False)
    config = tmp_path / "server.toml"
    config.write_text("shared_data_dir = true\ndatabase_upgrade_at_start = false\n")
    r = run_cli(tmp_path, "--config", str(config), "serve", "--port", "0", "--database-url", postgres_url, timeout=30)
    assert r.returncode == 1
    assert f"database schema version 0, this server needs {SCHEMA_VERSION}: run snaplark-server db upgrade" in r.stderr
