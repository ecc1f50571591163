"""``snaplark login [--server URL] [--token-stdin]``: check a token with ``GET /me`` and keep it in the keyring.

The token is read without echo (``getpass``) or from stdin, verified against the server before anything is stored,
registered with the log redactor at once, and never printed or logged. With ``--server`` the URL also becomes
``server.url`` in the settings, since that is the server the app will then use.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import Any, Callable
from urllib.parse import urlsplit

from tray import config
from tray.api.client import ApiClient
from tray.api.errors import ApiError, AuthRequired, NotSnaplarkServer, Offline, PermanentError
from tray.api.token_store import TokenStore
from tray.log import register_secret

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL",
                        help="API base URL, e.g. https://snaplark.com/api/v1 (default: server.url from the settings)")
    parser.add_argument("--token-stdin", action="store_true", help="read the token from stdin instead of prompting")


def read_token(from_stdin: bool, url: str) -> str:
    if from_stdin:
        return sys.stdin.read().strip()
    return getpass.getpass(f"API token for {url}: ").strip()


def verify(url: str, token: str, client_factory: Callable[..., Any] = ApiClient) -> tuple[str, dict]:
    """``GET /me`` with ``token``; returns ``(api url that answered, body)``. A bare server root that has no
    ``/me`` is retried with ``/api/v1`` appended. Raises the ApiClient's errors."""
    candidates = [url.rstrip("/")]
    if urlsplit(url).path in ("", "/"):
        candidates.append(candidates[0] + API_PREFIX)
    for i, candidate in enumerate(candidates):
        client = client_factory(candidate, lambda: token)
        try:
            return candidate, client.me()
        except PermanentError as exc:  # e.g. the root URL: /me is not there (404) or answers HTML
            if i == len(candidates) - 1 or not (isinstance(exc, NotSnaplarkServer) or exc.status == 404):
                raise
        finally:
            client.close()
    raise AssertionError("unreachable")


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
    store = token_store or TokenStore()
    store.backend()  # no usable keyring -> KeyringUnavailable now, before the user types a token

    token = read_token(args.token_stdin, url)
    if not token:
        print("snaplark login: empty token", file=sys.stderr)
        return 2
    register_secret(token)
    try:
        api_url, body = verify(url, token)
    except AuthRequired:
        print(f"snaplark login: {url} rejected this token (401); nothing was stored", file=sys.stderr)
        return 1
    except Offline as exc:
        print(f"snaplark login: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    except ApiError as exc:
        print(f"snaplark login: {exc}", file=sys.stderr)
        return 1
    store.set(api_url, token)
    del token
    user = body.get("user")
    name = user.get("name", user) if isinstance(user, dict) else user
    print(f"Logged in to {api_url} as {name}")
    if api_url != settings.server.url:
        config.set_value(path, "server.url", api_url)
        print(f"server.url = {api_url}  ({path})")
    return 0
