"""``snaplark login [--server URL] [--token-stdin] [--allow-http]``: check a token and keep it in the keyring.

The token is read without echo (``getpass``) or from stdin, checked with ``GET /me`` before anything is stored (a
401 stores nothing; a seed-only server without ``/me`` cannot check it, which is said, and the first upload does),
registered with the log redactor at once, and never printed or logged. With ``--server`` the URL also becomes
``server.url`` in the settings, since that is the server the app will then use.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from urllib.parse import urlsplit

from tray import config
from tray.api.errors import ApiError, AuthRequired, Offline
from tray.api.server_check import describe_offline, verify_token
from tray.api.token_store import TokenStore
from tray.log import register_secret

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL",
                        help="API base URL, e.g. https://snaplark.com/api/v1 (default: server.url from the settings)")
    parser.add_argument("--token-stdin", action="store_true", help="read the token from stdin instead of prompting")
    parser.add_argument("--allow-http", action="store_true",
                        help="no warning for a plain-http server that is not on this machine")


def read_token(from_stdin: bool, url: str) -> str:
    if from_stdin:
        return sys.stdin.read().strip()
    return getpass.getpass(f"API token for {url}: ").strip()


def plain_http_warning(url: str) -> str | None:
    """A warning for ``http://`` to a host that is not this machine: the token and every file travel readable."""
    parts = urlsplit(url)
    if parts.scheme != "http" or is_loopback(parts.hostname or ""):
        return None
    return (f"warning: {url} is plain http: the token and every screenshot and recording travel unencrypted to "
            f"{parts.hostname}. Use https (a reverse proxy with TLS in front of snaplark-server), or pass "
            f"--allow-http if this network is trusted.")


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace, *, token_store: TokenStore | None = None) -> int:
    path = config.resolve_path(args.config)
    settings = config.load_config(path)
    url = (args.server or settings.server.url).strip()
    if not url:
        print("snaplark login: no server configured (the embedded server needs no login); "
              "pass --server URL, e.g. --server https://snaplark.com/api/v1", file=sys.stderr)
        return 2
    problem = config.v_url(url)
    if problem:
        print(f"snaplark login: --server {url!r}: {problem}", file=sys.stderr)
        return 2
    warning = None if args.allow_http else plain_http_warning(url)
    if warning:
        print(f"snaplark login: {warning}", file=sys.stderr)
    store = token_store or TokenStore()
    store.backend()  # no usable keyring -> KeyringUnavailable now, before the user types a token

    token = read_token(args.token_stdin, url)
    if not token:
        print("snaplark login: empty token", file=sys.stderr)
        return 2
    register_secret(token)
    try:
        checked = verify_token(url, token)
    except AuthRequired:
        print(f"snaplark login: {url} rejected this token (401); nothing was stored", file=sys.stderr)
        return 1
    except Offline as exc:
        print(f"snaplark login: {describe_offline(url, exc)}", file=sys.stderr)
        return 1
    except ApiError as exc:
        print(f"snaplark login: {exc}", file=sys.stderr)
        return 1
    store.set(checked.api_url, token)
    del token
    if checked.user is not None:
        print(f"Logged in to {checked.api_url} as {checked.user}")
    else:
        print(f"Token stored for {checked.api_url}: {checked.note}")
    if checked.api_url != settings.server.url:
        config.set_value(path, "server.url", checked.api_url)
        print(f"server.url = {checked.api_url}  ({path})")
    return 0
