"""``snaplark delete LINK [--server URL]``: delete an upload on the server (its page, file and poster answer 410 Gone
afterwards). Only the owner's token can; the link may be the share page or the file. A server without the delete
extension (a seed-only server) is named as such."""

from __future__ import annotations

import argparse
import sys

from tray.commands.owner_actions import OwnerAction, run_owner_action


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("link", metavar="LINK", help="the share page or file link the upload gave")
    parser.add_argument("--server", metavar="URL", help="API base URL (default: server.url from the settings; "
                                                       "empty there = the embedded server)")


def run(args: argparse.Namespace, *, connection=None) -> int:
    def act(client, kind: str, object_id: str) -> str:
        answer = client.delete_object(object_id)
        return f"deleted {args.link} ({kind} {answer.get('id', object_id)}); its links now answer 410 Gone"

    return run_owner_action(OwnerAction("delete", "delete links", "video or screenshot"), args, act,
                            connection=connection, out=sys.stdout)
