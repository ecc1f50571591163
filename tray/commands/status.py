"""``snaplark status``: unfinished uploads in the journal (state, server session, parts acked)."""

from __future__ import annotations

import argparse
import json
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parts", action="store_true", help="list every part (offset, length, sha256, acked)")
    parser.add_argument("--all", action="store_true", help="include completed and failed uploads")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace, *, journal=None) -> int:
    from tray.humanize import human_bytes
    from tray.upload.journal import JournalError, UploadJournal, default_journal_path

    own = journal is None
    try:
        journal = journal or UploadJournal(default_journal_path()).open()
        sessions = journal.sessions(unfinished_only=not args.all)
    except JournalError as exc:
        print(f"snaplark status: {exc}", file=sys.stderr)
        return 1
    finally:
        if own and journal is not None:
            journal.close()
    if args.json:
        out = []
        for s in sessions:
            d = {k: getattr(s, k) for k in ("id", "kind", "local_path", "state", "server_session_id", "finished",
                                            "total_size", "durable_bytes", "url", "error")}
            d["parts"] = [vars(p) for p in s.parts]
            out.append(d)
        print(json.dumps(out, indent=2))
        return 0
    if not sessions:
        print("No unfinished uploads." if not args.all else "No uploads.")
        return 0
    for s in sessions:
        acked = sum(p.acked for p in s.parts)
        size = (s.total_size if s.finished else s.durable_bytes) or 0
        sent = sum(p.length for p in s.parts if p.acked)
        print(f"#{s.id} {s.kind:<10} {s.state:<14} {s.local_path}")
        if s.state == "completed":
            line = f"    complete, {human_bytes(size)}"
        else:
            line = f"    {human_bytes(sent)} of {human_bytes(size)} uploaded"
            if s.kind == "video":
                line += f", parts {acked}/{len(s.parts)} acked" + ("" if s.finished else " (recording)")
            line += f", server session {s.server_session_id or '-'}"
        print(line)
        if s.error:
            print(f"    error: {s.error}")
        if s.url:
            print(f"    {s.url}")
        if args.parts:
            for p in s.parts:
                print(f"      part {p.index:>4}  offset {p.offset:>12}  length {p.length:>9}  "
                      f"{'acked' if p.acked else 'pending':<7}  {(p.sha256 or '-')[:16]}")
    return 0
