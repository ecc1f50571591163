"""``snaplark history``: past uploads and their links, most recent first."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=int, default=20, help="how many entries (default 20, 0 = all)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace, *, journal=None) -> int:
    from tray.history import UploadHistory
    from tray.humanize import human_bytes
    from tray.upload.journal import JournalError, UploadJournal, default_journal_path

    own = journal is None
    try:
        journal = journal or UploadJournal(default_journal_path()).open()
        entries = UploadHistory(journal).entries(args.limit or None)
    except JournalError as exc:
        print(f"snaplark history: {exc}", file=sys.stderr)
        return 1
    finally:
        if own and journal is not None:
            journal.close()
    if args.json:
        print(json.dumps([vars(e) for e in entries], indent=2))
        return 0
    if not entries:
        print("No uploads yet.")
        return 0
    for e in entries:
        when = dt.datetime.fromtimestamp(e.completed_at).strftime("%Y-%m-%d %H:%M:%S")
        size = human_bytes(e.size) if e.size else "-"
        print(f"{when}  {e.kind:<10} {size:>10}  {e.url}  ({e.local_path})")
    return 0
