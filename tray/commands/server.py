"""``snaplark server check [--server URL] [--no-upload]``: what the server supports and what the client does
without each extension (:func:`tray.api.server_check.survey`).

By default a one-frame WebM (a few hundred bytes) goes through init → chunk → finalize, which is the only way to
learn whether a seed-only server accepts this client's uploads; ``--no-upload`` sends nothing but GETs.
Exit status: 0 when uploads will work, 1 when not (the reason is printed), 2 usage.
"""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="show what the server supports and whether uploads will work")
    check.add_argument("--server", metavar="URL", help="API base URL (default: server.url from the settings; "
                                                       "empty there = the embedded server)")
    check.add_argument("--no-upload", action="store_true",
                       help="do not upload the one-frame test video (then the seed endpoints stay unchecked)")


def run(args: argparse.Namespace) -> int:
    from tray.api.server_check import survey
    from tray.commands.upload import connect

    try:
        connection = connect(args)
    except Exception as exc:  # ServerUnavailable, ConfigError, keyring errors: all user-facing
        print(f"snaplark server check: {exc}", file=sys.stderr)
        return 1
    client = connection.client(connect_timeout=5.0, min_read_timeout=15.0)
    try:
        report = survey(client, test_upload=not args.no_upload)
    finally:
        client.close()
        connection.close()
    print(report.render())
    return 0 if report.uploads_work else 1
