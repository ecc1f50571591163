"""What ``snaplark delete`` and ``snaplark trim`` share: the server connection (``--server`` or the settings), the
object a link names, and one message per way the owner's action can fail -- a seed-only server that lacks the
extension, a link that is not this user's (404), one already deleted (410), not logged in (401)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable, TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The link cannot take this action (e.g. trimming a screenshot)."""


@dataclass(frozen=True)
class OwnerAction:
    command: str  # "delete"
    can: str  # "delete links": "this server cannot <can>"
    what: str  # "video or screenshot": what a link must name


def add_link_arguments(parser: argparse.ArgumentParser, link_help: str) -> None:
    """``LINK`` and ``--server URL``, which every owner action takes; the command adds its own after them."""
    parser.add_argument("link", metavar="LINK", help=link_help)
    parser.add_argument("--server", metavar="URL", help="API base URL (default: server.url from the settings; "
                                                       "empty there = the embedded server)")


def run_owner_action(action: OwnerAction, args: argparse.Namespace, act: Callable[[Any, str, str], str], *,
                     connection: Any = None, out: TextIO) -> int:
    import sys

    from tray.api.errors import ApiError, AuthRequired, ExtensionMissing, Offline
    from tray.upload.links import object_of_link

    def err(msg: str) -> int:
        print(f"snaplark {action.command}: {msg}", file=sys.stderr)
        return EXIT_FAILED

    target = object_of_link(args.link)
    if target is None:
        print(f"snaplark {action.command}: {args.link!r} is not a Snaplark link (/v/<id> or /s/<id>)", file=sys.stderr)
        return EXIT_USAGE
    kind, object_id = target
    own = connection is None
    try:
        if connection is None:
            from tray.commands.upload import connect

            connection = connect(args)
    except Exception as exc:  # ServerUnavailable, ConfigError, keyring errors: all user-facing
        return err(str(exc))
    client = connection.client(connect_timeout=5.0, min_read_timeout=120.0)
    try:
        print(act(client, kind, object_id), file=out)
        return EXIT_OK
    except UsageError as exc:
        print(f"snaplark {action.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExtensionMissing:
        return err(f"this server cannot {action.can} ({connection.api_url} has no such extension; a seed-only "
                   f"server keeps every upload)")
    except AuthRequired:
        return err(f"not logged in to {connection.api_url}: run `snaplark login`")
    except Offline as exc:
        return err(str(exc))
    except ApiError as exc:
        if exc.status == 404:
            return err(f"{connection.api_url} has no {action.what} {object_id} of yours ({args.link})")
        if exc.status == 410:
            return err(f"{args.link} was deleted already")
        return err(f"the server refused: {exc}")
    finally:
        client.close()
        if own:
            connection.close()
