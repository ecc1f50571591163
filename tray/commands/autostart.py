"""``snaplark autostart enable|disable|status``: start Snaplark at login through the OS's own mechanism.

The adapter comes from ``tray_platform.<os>.autostart`` (XDG autostart entry, LaunchAgent, HKCU Run key);
``SNAPLARK_AUTOSTART`` names another backend package (e.g. ``linux`` on any OS, for tests).
The command registered is the running launcher: the PyInstaller binary itself when frozen (or the AppImage),
else the ``snaplark`` script on PATH, else ``python -m tray``; ``--command`` overrides it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from typing import Any

ENV_BACKEND = "SNAPLARK_AUTOSTART"


def launcher_command() -> list[str]:
    """The argv that starts this installation of Snaplark's tray app."""
    appimage = os.environ.get("APPIMAGE")
    if appimage and os.path.isabs(appimage):
        return [appimage]
    if getattr(sys, "frozen", False):
        return [os.path.abspath(sys.executable)]
    script = shutil.which("snaplark")
    if script:
        return [os.path.abspath(script)]
    return [os.path.abspath(sys.executable), "-m", "tray"]


def create_autostart(**kwargs: Any):
    from tray_platform.base import choose_backend

    return choose_backend("autostart", env_var=ENV_BACKEND, **kwargs).backend


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
