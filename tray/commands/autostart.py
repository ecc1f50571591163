"""``snaplark autostart enable|disable|status``: start Snaplark at login through the OS's own mechanism.

Which adapter and which command: :mod:`tray.autostart` (shared with the Settings window); ``--command`` overrides
the command.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from tray.autostart import ENV_BACKEND, create_autostart, launcher_command  # noqa: F401 - this command's names


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="autostart_action", metavar="ACTION", required=True)
    enable = sub.add_parser("enable", help="start Snaplark at login")
    enable.add_argument("--command", metavar="CMD", dest="launch_command", default=None,
                        help="command line to run at login, shell-quoted (default: this launcher)")
    sub.add_parser("disable", help="do not start Snaplark at login")
    sub.add_parser("status", help="show whether Snaplark starts at login, and with which command")


def run(args: argparse.Namespace, *, autostart: Any = None) -> int:
    autostart = autostart if autostart is not None else create_autostart()
    where = autostart.location() if hasattr(autostart, "location") else type(autostart).__name__
    action = args.autostart_action
    if action == "enable":
        command = shlex.split(args.launch_command) if args.launch_command else launcher_command()
        if not command:
            print("snaplark autostart: --command is empty", file=sys.stderr)
            return 2
        autostart.enable(command)
        print(f"autostart enabled: {shlex.join(command)} ({where})")
        return 0
    if action == "disable":
        autostart.disable()
        print(f"autostart disabled ({where})")
        return 0
    if action == "status":
        if autostart.is_enabled():
            command = autostart.command() if hasattr(autostart, "command") else None
            shown = shlex.join(command) if command else "?"
            print(f"enabled: {shown} ({where})")
        else:
            print(f"disabled ({where})")
        return 0
    raise AssertionError(f"unknown autostart action {action!r}")  # argparse restricts the choices
