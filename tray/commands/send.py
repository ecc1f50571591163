"""``snaplark send COMMAND``: ask the running tray app to capture, record, stop, pause or quit.

For desktops where Snaplark cannot grab global hotkeys (Wayland compositors without the GlobalShortcuts portal,
e.g. sway): bind a key in the compositor to ``snaplark send capture-region``. The command reaches the running app over
its single-instance socket in the data dir (:mod:`tray.ui.single_instance`) and runs there exactly as the tray menu
item would. Exit status: 0 done, 1 no Snaplark running (or it did not accept the command), 2 usage.
"""

from __future__ import annotations

import argparse
import sys

from tray.ui.single_instance import COMMANDS

#: what the user types (dashes) -> the instance protocol's command
CHOICES = {name.replace("_", "-"): name for name in sorted(COMMANDS)}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance_command", choices=sorted(CHOICES), metavar="COMMAND",
                        help="one of: " + ", ".join(sorted(CHOICES)))


def run(args: argparse.Namespace) -> int:
    from tray.ui.single_instance import SingleInstance, default_path

    answer = SingleInstance(default_path()).send(CHOICES[args.instance_command])
    if answer is None:
        print("snaplark send: Snaplark is not running (start it with `snaplark`)", file=sys.stderr)
        return 1
    if answer != "ok":
        print(f"snaplark send: the running Snaplark did not accept {args.instance_command!r} (answered {answer!r}); "
              f"is it an older version?", file=sys.stderr)
        return 1
    return 0
