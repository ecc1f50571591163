"""``snaplark title LINK "text" [--server URL]``: the title the upload's share page, its previews (og:title) and
oEmbed show instead of the date; ``""`` removes it. Only the owner's token can; the server says what is wrong with a
title it refuses (too long, a line break, invisible characters). A server without the extension is named as
such."""

from __future__ import annotations

import argparse
import sys

from tray.commands.owner_actions import OwnerAction, UsageError, add_link_arguments, run_owner_action


def configure(parser: argparse.ArgumentParser) -> None:
    add_link_arguments(parser, "the share page or file link the upload gave")
    parser.add_argument("title", metavar="TEXT", help='the new title (one line, at most 200 characters); "" removes it')


def run(args: argparse.Namespace, *, connection=None) -> int:
    from tray.api.errors import ApiError

    def act(client, kind: str, object_id: str) -> str:
        try:
            answer = client.set_title(object_id, args.title or None)
        except ApiError as exc:
            if exc.status == 422:  # the server's reason (length, control characters ...) is its message
                reason = exc.body.get("message") if isinstance(exc.body, dict) else None
                raise UsageError(f"the server refused the title: {reason or exc}") from None
            raise
        if answer.get("title") is None:
            return f"removed the title of {args.link}; its page shows {answer.get('displayTitle')!r}"
        return f"{args.link} is now titled {answer['title']!r}"

    return run_owner_action(OwnerAction("title", "set titles", "video or screenshot"), args, act,
                            connection=connection, out=sys.stdout)
