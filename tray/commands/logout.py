"""``snaplark logout [--server URL]``: forget the token stored for a server."""

from __future__ import annotations

import argparse
import sys

from tray.api.token_store import TokenStore
from tray.config import load_config


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL", help="API base URL (default: server.url from the settings)")


def run(args: argparse.Namespace, *, token_store: TokenStore | None = None) -> int:
    url = (args.server or load_config(args.config).server.url).strip()
    if not url:
        print("snaplark logout: no server configured (server.url is empty: the embedded server needs no login); "
              "pass --server URL", file=sys.stderr)
        return 2
    store = token_store or TokenStore()
    if store.delete(url):
        print(f"Logged out of {url}")
    else:
        print(f"No token was stored for {url}")
    return 0
