"""``snaplark config path|show|get KEY|set KEY VALUE``."""

from __future__ import annotations

import argparse
import sys

from tray import config


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("path", help="print the settings file path")
    actions.add_parser("show", help="print every setting (defaults included) as TOML")
    get = actions.add_parser("get", help="print one setting, e.g. capture.fps")
    get.add_argument("key", metavar="KEY")
    set_ = actions.add_parser("set", help="change one setting (validated before the file is written)")
    set_.add_argument("key", metavar="KEY")
    set_.add_argument("value", metavar="VALUE")
    parser.epilog = "keys: " + ", ".join(config.setting_keys())


def run(args: argparse.Namespace) -> int:
    path = config.resolve_path(args.config)
    if args.action == "path":
        print(path)
        return 0
    if args.action == "set":
        config.check_hotkey_change(path, args.key, args.value)  # a clash names the hotkey being set as refused
        settings = config.set_value(path, args.key, args.value)
        print(f"{args.key} = {config.format_value(config.get_value(settings, args.key))}  ({path})")
        return 0
    settings = config.load_config(path)
    if args.action == "show":
        print(f"# {path}{'' if path.exists() else ' (does not exist: defaults)'}")
        sys.stdout.write(config.dumps(settings))
        return 0
    try:
        value = config.get_value(settings, args.key)
    except KeyError:
        print(f"snaplark config: no such setting {args.key!r}; keys: {', '.join(config.setting_keys())}",
              file=sys.stderr)
        return 2
    print(config.format_value(value))
    return 0
