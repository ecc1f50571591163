"""``snaplark history``: past uploads and their links, most recent first."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=int, default=20, help="how many entries (default 20, 0 = all)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace, *, history: Any = None) -> int:
    """``history``: an :class:`tray.upload.history.UploadHistory` to read (the composition root's or a test's);
    by default the one :func:`tray.services.open_upload_history` opens over the data dir's journal."""
    from tray.upload.journal import JournalError

    try:
        if history is not None:
            entries = history.entries(args.limit or None)
        else:
            from tray.services import open_upload_history

            with open_upload_history() as opened:
                entries = opened.entries(args.limit or None)
    except JournalError as exc:
        print(f"snaplark history: {exc}", file=sys.stderr)
        return 1
    _print(entries, as_json=args.json)
    return 0


def _print(entries: list, *, as_json: bool) -> None:
    from tray.humanize import human_bytes

    if as_json:
        print(json.dumps([vars(e) for e in entries], indent=2))
        return
    if not entries:
        print("No uploads yet.")
        return
    for e in entries:
        when = dt.datetime.fromtimestamp(e.completed_at).strftime("%Y-%m-%d %H:%M:%S")
        size = human_bytes(e.size) if e.size else "-"
        print(f"{when}  {e.kind:<10} {size:>10}  {e.url}  ({e.local_path})")
