"""``snaplark history``: past uploads and their links, most recent first (a link the owner deleted on the server is
marked ``[link deleted]``), with the files saved and not uploaded (a GIF made from a recording: ``(not uploaded)``);
``--window``: the History window (in the running tray app when there is one, else on its own until it is closed)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=int, default=20, help="how many entries (default 20, 0 = all)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--window", action="store_true",
                        help="open the History window (thumbnails, search, copy/open/retry/delete)")


def run(args: argparse.Namespace, *, history: Any = None) -> int:
    """``history``: an :class:`tray.upload.history.UploadHistory` to read (the composition root's or a test's);
    by default the one :func:`tray.services.open_upload_history` opens over the data dir's journal."""
    from tray.upload.journal import JournalError

    if args.window:
        return _window(args)
    try:
        if history is not None:
            entries = _entries(history, args.limit)
        else:
            from tray.services import open_upload_history

            with open_upload_history() as opened:
                entries = _entries(opened, args.limit)
    except JournalError as exc:
        print(f"snaplark history: {exc}", file=sys.stderr)
        return 1
    _print(entries, as_json=args.json)
    return 0


def _entries(history: Any, limit: int) -> list:
    """The uploads and the saved files not uploaded (GIFs made from recordings), newest first, ``limit`` of them."""
    rows = history.entries(limit or None) + history.saved()
    rows.sort(key=lambda e: getattr(e, "completed_at", None) or e.created_at, reverse=True)
    return rows[:limit] if limit else rows


def _window(args: argparse.Namespace) -> int:
    import os

    from tray.ui.single_instance import SingleInstance, default_path

    if SingleInstance(default_path()).send("open_history") == "ok":
        return 0  # the running tray app shows it
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        print("snaplark history: no display (DISPLAY is not set) for the window; `snaplark history` lists uploads "
              "here", file=sys.stderr)
        return 2
    from tray import config
    from tray.ui.app_windows import run_history_window
    from tray.upload.journal import JournalError

    try:
        settings = config.load_config(config.resolve_path(getattr(args, "config", None)))
        return run_history_window(settings)
    except (config.ConfigError, JournalError) as exc:
        print(f"snaplark history: {exc}", file=sys.stderr)
        return 1


def _print(entries: list, *, as_json: bool) -> None:
    from tray.humanize import human_bytes

    if as_json:  # a saved file has no url (null) and says when it was saved (created_at)
        print(json.dumps([{**e._asdict(), "url": None} if hasattr(e, "_asdict") else vars(e) for e in entries],
                         indent=2))
        return
    if not entries:
        print("No uploads yet.")
        return
    for e in entries:
        saved = not hasattr(e, "completed_at")
        when = dt.datetime.fromtimestamp(e.created_at if saved else e.completed_at).strftime("%Y-%m-%d %H:%M:%S")
        size = human_bytes(e.size) if e.size else "-"
        gone = " [link deleted]" if getattr(e, "deleted_at", None) is not None else ""  # snaplark delete & co
        link = "(not uploaded)" if saved else e.url
        print(f"{when}  {e.kind:<10} {size:>10}  {link}{gone}  ({e.local_path})")
