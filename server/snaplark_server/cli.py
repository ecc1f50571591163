"""``snaplark-server`` command line.

    snaplark-server [--data-dir DIR] [--config FILE] serve [--host H] [--port P] [--storage local|s3]
    snaplark-server [--data-dir DIR] user add NAME      (prints the new token alone on its last line)
    snaplark-server [--data-dir DIR] user list
    snaplark-server [--data-dir DIR] token revoke NAME
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .config import ConfigError, ServerConfig, load_config_file
from .db import Database
from .users import UserError, create_user, list_users, revoke_token


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
    serve.add_argument("--enable-fault-injection-for-tests", action="store_true",
                       help="expose /_faults (tests only; never in production)")

    user = sub.add_parser("user", help="manage users")
    usub = user.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="create a user and print its token")
    add.add_argument("name")
    usub.add_parser("list", help="list users")

    token = sub.add_parser("token", help="manage tokens")
    tsub = token.add_subparsers(dest="token_command", required=True)
    rev = tsub.add_parser("revoke", help="revoke a user's token")
    rev.add_argument("name")
    return p


def _config(args) -> ServerConfig:
    overrides = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.command == "serve":
        for attr in ("host", "port", "storage", "s3_bucket", "s3_endpoint_url", "public_base_url", "max_part_size",
                     "header_timeout", "max_header_size", "body_timeout", "body_min_rate", "max_connections"):
            value = getattr(args, attr)
            if value is not None:
                overrides[attr] = value
        if args.enable_fault_injection_for_tests:
            overrides["fault_injection"] = True
    if args.config is not None:
        return load_config_file(args.config, **overrides)
    return ServerConfig(**overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(0o077)  # everything this process creates is the server user's alone (private_files.py)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "multipart", "python_multipart"):
        # their DEBUG output includes request headers (AWS signatures); never log credentials
        logging.getLogger(noisy).setLevel(logging.INFO)
    try:
        config = _config(args)
    except ConfigError as exc:
        print(f"snaplark-server: {exc}", file=sys.stderr)
        return 2

    if args.command == "serve":
        return _serve(config)

    db = Database.in_data_dir(config.data_dir)
    try:
        if args.command == "user" and args.user_command == "add":
            try:
                token = create_user(db, args.name)
            except UserError as exc:
                print(f"snaplark-server: {exc}", file=sys.stderr)
                return 1
            print(f"created user {args.name!r}; its token (shown only once):")
            print(token)
            return 0
        if args.command == "user" and args.user_command == "list":
            for name, active in list_users(db):
                print(f"{name}\t{'active' if active else 'revoked'}")
            return 0
        if args.command == "token" and args.token_command == "revoke":
            if not revoke_token(db, args.name):
                print(f"snaplark-server: no such user {args.name!r}", file=sys.stderr)
                return 1
            print(f"revoked the token of {args.name!r}")
            return 0
    finally:
        db.close()
    return 2


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
    app = create_app(config)
    logging.getLogger(__name__).info(
        "storage %s, data %s%s", config.storage, config.data_dir,
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
