"""Snaplark reference server: the seed upload API plus durable extensions (see shared/API.md).

Entry points others use:
  * `snaplark_server.runner.ServerThread(config, *, clock=time.time)` -- in-process uvicorn on a daemon thread:
    ``.start()`` (returns self once listening; raises `ServerStartError`, an OSError, if the port is taken),
    ``.url``, ``.api_url``, ``.port``, ``.stop(timeout=10)``, context manager; ``.faults`` / ``.service`` for tests.
  * `snaplark_server.config.ServerConfig` -- dataclass of every setting; `load_config_file(path, **overrides)`.
  * `snaplark_server.app.create_app(config, *, clock=time.time)` -- the FastAPI app.
  * `snaplark_server.users` -- `create_user(db, name) -> token`, `set_user_token(db, name, token)` (alias
    `ensure_user_token`), `rotate_token(db, name) -> token`, `revoke_token(db, name)`, `list_users(db)`,
    `new_token()`; data-dir helpers for the desktop app: `register_token(data_dir, name, token)`,
    `ensure_local_user(data_dir, name="local") -> fresh token`. Only sha256 hashes of tokens are stored.
  * `snaplark_server.db.Database.in_data_dir(data_dir)` -- the SQLite metadata store.
  * Fault injection (``config.fault_injection=True`` or ``serve --enable-fault-injection-for-tests``):
    ``POST/GET/DELETE /_faults`` or `ServerThread.faults.add(route, count, status, delay, drop, retry_after,
    method)`; see `snaplark_server.faults`.
  * CLI: ``snaplark-server [--data-dir DIR] [--config FILE] serve|user add NAME|user list|token revoke NAME``.
"""

__version__ = "0.1.0"
