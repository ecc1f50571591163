"""``snaplark-server`` command line.

    snaplark-server [--data-dir DIR] [--config FILE] serve [--host H] [--port P] [--storage local|s3]
    snaplark-server [--data-dir DIR] user add NAME [--expires 90d]   (prints the new token alone on its last line)
    snaplark-server [--data-dir DIR] user token NAME [--revoke-others] [--expires 90d]   (a new token, likewise)
    snaplark-server [--data-dir DIR] user disable|enable NAME
    snaplark-server [--data-dir DIR] user delete NAME [--yes]         (its objects too; asks unless --yes)
    snaplark-server [--data-dir DIR] user list                        (state, tokens, objects, bytes, last upload)
    snaplark-server [--data-dir DIR] usage                            (usage per user, and totals)
    snaplark-server [--data-dir DIR] token revoke NAME                (every token of NAME)
    snaplark-server [--data-dir DIR] db upgrade [--database-url URL]  (apply the missing schema migrations)

The database: SQLite in the data dir, else PostgreSQL from --database-url (serve, db), $SNAPLARK_DATABASE_URL or the
config file's database_url, in that order.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import time
from pathlib import Path

from . import __version__
from .config import ConfigError, ServerConfig, load_config_file
from .audit import AuditLog
from .databases import env_database_url, open_database, upgrade_database
from .db import Database
from .request_context import RequestIdLogFilter
from .users import (UserError, create_user, delete_user, issue_token, iso, parse_duration, revoke_token,
                    set_disabled, user_infos)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="snaplark-server", description="Snaplark reference upload server")
    p.add_argument("--version", action="version", version=f"snaplark-server {__version__}")
    p.add_argument("--data-dir", type=Path, default=None, help="data directory (database, stored files)")
    p.add_argument("--config", type=Path, default=None, help="TOML config file")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--storage", choices=["local", "s3"], default=None)
    serve.add_argument("--s3-bucket", default=None)
    serve.add_argument("--s3-endpoint-url", default=None)
    serve.add_argument("--public-base-url", default=None)
    serve.add_argument("--max-part-size", type=int, default=None)
    serve.add_argument("--header-timeout", type=float, default=None,
                       help="seconds a client has to send a complete request head (default 10)")
    serve.add_argument("--max-header-size", type=int, default=None,
                       help="bytes of request line + headers; larger heads get 431 (default 32768)")
    serve.add_argument("--body-timeout", type=float, default=None,
                       help="seconds without a body byte before a request is cut with 408 (default 20)")
    serve.add_argument("--body-min-rate", type=int, default=None,
                       help="bytes/s a request body must average over each body-timeout window (default 1024)")
    serve.add_argument("--max-connections", type=int, default=None,
                       help="open connections (default 1000; never more than the fd limit allows)")
    serve.add_argument("--access-log", metavar="FILE|-|off", default=None,
                       help="where the access log goes: - = stderr (default), off, or a file (relative: in the data dir)")
    serve.add_argument("--access-log-json", action="store_true", default=None,
                       help="access log as JSON lines instead of plain text")
    serve.add_argument("--metrics-public", action="store_true", default=None,
                       help="serve /metrics without a token (default: any valid user token)")
    serve.add_argument("--database-url", default=None, metavar="postgresql://...",
                       help="PostgreSQL for several instances (default: SQLite in the data dir)")
    serve.add_argument("--enable-fault-injection-for-tests", action="store_true",
                       help="expose /_faults (tests only; never in production)")

    user = sub.add_parser("user", help="manage users")
    usub = user.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="create a user and print its token")
    add.add_argument("name")
    add.add_argument("--expires", metavar="DURATION", help="the token expires after this long (90d, 12h, 2w)")
    tok = usub.add_parser("token", help="print a new token for an existing user (its other tokens stay valid)")
    tok.add_argument("name")
    tok.add_argument("--revoke-others", action="store_true", help="revoke the user's other tokens")
    tok.add_argument("--expires", metavar="DURATION", help="the token expires after this long (90d, 12h, 2w)")
    for verb, text in (("disable", "refuse every token of the user (nothing is deleted)"),
                       ("enable", "accept the user's tokens again")):
        usub.add_parser(verb, help=text).add_argument("name")
    delete = usub.add_parser("delete", help="delete a user with its tokens, uploads and stored files")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    usub.add_parser("list", help="list users with their state and usage")
    sub.add_parser("usage", help="report usage per user (objects, bytes stored, today, open sessions)")

    token = sub.add_parser("token", help="manage tokens")
    tsub = token.add_subparsers(dest="token_command", required=True)
    rev = tsub.add_parser("revoke", help="revoke a user's token")
    rev.add_argument("name")

    dbp = sub.add_parser("db", help="the metadata database")
    dsub = dbp.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser("upgrade", help="apply the missing schema migrations (also done at start by default)")
    up.add_argument("--database-url", default=None, metavar="postgresql://...")
    return p


def _config(args) -> ServerConfig:
    overrides = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.command == "serve":
        for attr in ("host", "port", "storage", "s3_bucket", "s3_endpoint_url", "public_base_url", "max_part_size",
                     "header_timeout", "max_header_size", "body_timeout", "body_min_rate", "max_connections",
                     "access_log", "access_log_json", "metrics_public"):
            value = getattr(args, attr)
            if value is not None:
                overrides[attr] = value
        if args.enable_fault_injection_for_tests:
            overrides["fault_injection"] = True
    url = getattr(args, "database_url", None) or env_database_url()
    if url is not None:
        overrides["database_url"] = url
    if args.config is not None:
        return load_config_file(args.config, **overrides)
    return ServerConfig(**overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(0o077)  # everything this process creates is the server user's alone (private_files.py)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s rid=%(request_id)s")
    for handler in logging.getLogger().handlers:  # rid= the X-Request-Id of the request being served, else "-"
        handler.addFilter(RequestIdLogFilter())
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "multipart", "python_multipart"):
        # their DEBUG output includes request headers (AWS signatures); never log credentials
        logging.getLogger(noisy).setLevel(logging.INFO)
    try:
        config = _config(args)
        if args.command == "serve":
            config.check_shared_storage()
    except ConfigError as exc:
        print(f"snaplark-server: {exc}", file=sys.stderr)
        return 2

    if args.command == "serve":
        return _serve(config)
    try:
        if args.command == "db":
            before, after = upgrade_database(config)
            print(f"database schema at version {after}" + (f" (upgraded from {before})" if before != after else
                                                             " (already up to date)"))
            return 0
        db = open_database(config)
    except (ConfigError, RuntimeError) as exc:
        print(f"snaplark-server: {exc}", file=sys.stderr)
        return 1
    audit = AuditLog(config.data_dir)
    try:
        return _admin(args, config, db, _CliAudit(audit))
    except UserError as exc:
        print(f"snaplark-server: {exc}", file=sys.stderr)
        return 1
    finally:
        audit.close()
        db.close()


class _CliAudit:
    """Audit entries of the admin commands, with who ran them (``actor``: cli, the OS user and the pid)."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit
        try:
            os_user = getpass.getuser()
        except Exception:  # no name for this uid (a container): the uid
            os_user = str(os.getuid()) if hasattr(os, "getuid") else "?"
        self._actor = {"actor": "cli", "osUser": os_user, "pid": os.getpid()}

    def __call__(self, event: str, name: str, **fields) -> None:
        self._audit.record(event, user=name, **self._actor, **fields)


def _expiry(args) -> float | None:
    return time.time() + parse_duration(args.expires) if getattr(args, "expires", None) else None


def _admin(args, config: ServerConfig, db: Database, audit: "_CliAudit") -> int:
    """The user, token and usage commands (the server may be running: SQLite serialises the writers). Every change
    is written to the audit log (never a token)."""
    if args.command == "user" and args.user_command in ("add", "token"):
        expires_at = _expiry(args)
        if args.user_command == "add":
            token = create_user(db, args.name, expires_at=expires_at)
            audit("user.add", args.name, expiresAt=iso(expires_at) if expires_at else None)
            what = f"created user {args.name!r}"
        else:
            token = issue_token(db, args.name, revoke_others=args.revoke_others, expires_at=expires_at)
            audit("user.token", args.name, revokeOthers=args.revoke_others,
                  expiresAt=iso(expires_at) if expires_at else None)
            what = f"new token for {args.name!r}" + ("; its other tokens are revoked" if args.revoke_others else
                                                    "; its other tokens stay valid")
        until = f", valid until {iso(expires_at)}" if expires_at else ""
        print(f"{what}; its token (shown only once{until}):")
        print(token)
        return 0
    if args.command == "user" and args.user_command in ("disable", "enable"):
        set_disabled(db, args.name, args.user_command == "disable")
        audit(f"user.{args.user_command}", args.name)
        print(f"{args.user_command}d user {args.name!r}")
        return 0
    if args.command == "user" and args.user_command == "delete":
        usage = _usage_rows(db, config).get(args.name)
        if usage is None:
            raise UserError(f"no such user {args.name!r}")
        if not args.yes:
            print(f"delete user {args.name!r} with its {usage.objects} upload(s) ({usage.bytes_stored} bytes)? "
                  f"Type the user's name to confirm: ", end="", flush=True)
            answer = sys.stdin.readline().strip()
            if answer != args.name:
                print("snaplark-server: not confirmed; nothing deleted", file=sys.stderr)
                return 1
        from .storage import make_storage

        storage = make_storage(config)
        storage.start()
        n = delete_user(db, args.name, storage)
        audit("user.delete", args.name, objects=n, bytes=usage.bytes_stored)
        print(f"deleted user {args.name!r} and {n} upload(s)")
        return 0
    if args.command == "user" and args.user_command == "list":
        usage = _usage_rows(db, config)
        for info in user_infos(db):
            u = usage[info.name]
            expiry = f"\texpires {iso(info.next_expiry)}" if info.next_expiry else ""
            print(f"{info.name}\t{info.state}\t{info.tokens} token(s)\t{u.objects} object(s)\t{u.bytes_stored} bytes"
                  f"\tlast upload {iso(u.last_upload)}{expiry}")
        return 0
    if args.command == "usage":
        usage = _usage_rows(db, config)
        print("user\tobjects\tbytes_stored\tbytes_today\topen_sessions\tlast_upload")
        for name, u in usage.items():
            print(f"{name}\t{u.objects}\t{u.bytes_stored}\t{u.bytes_today}\t{u.open_sessions}\t{iso(u.last_upload)}")
        total = list(usage.values())
        print(f"total\t{sum(u.objects for u in total)}\t{sum(u.bytes_stored for u in total)}"
              f"\t{sum(u.bytes_today for u in total)}\t{sum(u.open_sessions for u in total)}\t-")
        return 0
    if args.command == "token" and args.token_command == "revoke":
        if not revoke_token(db, args.name):
            raise UserError(f"no such user {args.name!r}")
        audit("token.revoke", args.name)
        print(f"revoked every token of {args.name!r}")
        return 0
    return 2


def _usage_rows(db: Database, config: ServerConfig) -> dict:
    from .quotas import user_usage

    now = time.time()
    return {info.name: user_usage(db, info.id, now, config.session_idle_expiry) for info in user_infos(db, now)}


def _serve(config: ServerConfig) -> int:
    import socket

    from .app import create_app
    from .connection_guard import LISTEN_QUEUE, fd_soft_limit, raise_fd_soft_limit
    from .runner import make_uvicorn_server

    raised = raise_fd_soft_limit()
    if raised:
        logging.getLogger(__name__).info("open-files limit raised from %d to %d", *raised)

    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto set: asyncio then enables TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        print(f"snaplark-server: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    sock.listen(LISTEN_QUEUE)
    port = sock.getsockname()[1]
    try:
        app = create_app(config)
    except (ConfigError, RuntimeError) as exc:  # the database cannot be reached, or its schema is not ours
        print(f"snaplark-server: {exc}", file=sys.stderr)
        return 1
    logging.getLogger(__name__).info(
        "storage %s, data %s, database %s%s", config.storage, config.data_dir,
        "postgresql" if config.database_url else "sqlite",
        " WITH FAULT INJECTION (tests only)" if config.fault_injection else "")
    host = f"[{config.host}]" if ":" in config.host else config.host
    # Tests and scripts read this line to find an ephemeral port (--port 0).
    print(f"snaplark-server listening on http://{host}:{port}", flush=True)
    server = make_uvicorn_server(app, config, log_level="info", graceful_timeout=5)
    limits = server.guard.limits
    logging.getLogger(__name__).info(
        "connection limits: head %gs and %d bytes, body %gs / %d bytes/s, %d connections%s",
        limits.header_timeout, limits.max_header_size, limits.body_timeout, limits.body_min_rate,
        limits.max_connections,
        f" (open-files limit {fd_soft_limit()})" if limits.max_connections < config.max_connections else "")
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
