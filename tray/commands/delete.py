"""``snaplark delete LINK [--server URL]``: delete an upload on the server (its page, file and poster answer 410 Gone
afterwards). Only the owner's token can; the link may be the share page or the file. A server without the delete
extension (a seed-only server) is named as such. The upload journal records the deletion (also when the server says
it was deleted already), so ``snaplark history``, the History window and the tray's Recent uploads show the link as
deleted."""

from __future__ import annotations

import argparse
import sys

from tray.commands.owner_actions import OwnerAction, run_owner_action


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("link", metavar="LINK", help="the share page or file link the upload gave")
    parser.add_argument("--server", metavar="URL", help="API base URL (default: server.url from the settings; "
                                                       "empty there = the embedded server)")


def run(args: argparse.Namespace, *, connection=None) -> int:
    from tray.api.errors import ApiError

    def act(client, kind: str, object_id: str) -> str:
        try:
            answer = client.delete_object(object_id)
        except ApiError as exc:
            if exc.status != 410:
                raise
            # Gone already (deleted from another computer, or expired): what was asked for holds, so this is no
            # failure; the journal may not know yet.
            record_deleted(args.link)
            why = "had expired" if exc.code == "expired" else "was deleted"
            return f"{args.link} {why} already; its links answer 410 Gone"
        record_deleted(args.link)
        return f"deleted {args.link} ({kind} {answer.get('id', object_id)}); its links now answer 410 Gone"

    return run_owner_action(OwnerAction("delete", "delete links", "video or screenshot"), args, act,
                            connection=connection, out=sys.stdout)


def record_deleted(link: str) -> None:
    """Mark ``link`` deleted in this user's upload journal; a journal that cannot be written is reported on stderr
    (the server has deleted the upload whatever happens here)."""
    from tray.upload.journal import JournalError, UploadJournal, default_journal_path

    path = default_journal_path()
    if not path.exists():
        return  # never uploaded from here: nothing to record
    try:
        with UploadJournal(path) as journal:
            journal.mark_link_deleted(link)
    except JournalError as exc:
        print(f"snaplark delete: the link is deleted, but the upload history could not record it: {exc}",
              file=sys.stderr)
