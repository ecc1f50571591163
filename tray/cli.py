"""``snaplark`` command line: global flags, lazy dispatch to ``tray/commands/<name>.py``.

``snaplark`` alone runs the tray app (``tray.app.run_tray(args)``). Parsing happens in two steps so that only the
chosen command's module is imported: the top-level parser takes the global flags and the command name, then a
parser for that command (built by the module's ``configure``) takes the rest. Global flags are accepted on both
sides of the command name (``snaplark -v config show`` and ``snaplark config show -v``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence

from tray import __version__
from tray.commands import COMMANDS

log = logging.getLogger(__name__)

EXIT_USAGE = 2


class NotAvailable(Exception):
    """The command (or the tray app) is not built yet."""


def _global_flags(*, suppress: bool) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    default = {"default": argparse.SUPPRESS} if suppress else {}
    parent.add_argument("-v", "--verbose", action="store_true", help="debug output on stderr", **default)
    parent.add_argument("--config", type=Path, metavar="FILE",
                        help="settings file (default: $SNAPLARK_CONFIG or the user config dir)", **default)
    return parent


def build_parser() -> argparse.ArgumentParser:
    epilog = "commands:\n" + "\n".join(f"  {name:<10} {text}" for name, text in COMMANDS.items())
    epilog += "\n\nWithout a command, snaplark runs the tray app. `snaplark COMMAND --help` for details."
    parser = argparse.ArgumentParser(prog="snaplark", parents=[_global_flags(suppress=False)], epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Screenshots and screen recordings, uploaded to a Snaplark server.")
    parser.add_argument("--version", action="version", version=f"snaplark {__version__}")
    parser.add_argument("command", nargs="?", metavar="COMMAND", help=argparse.SUPPRESS)
    parser.add_argument("command_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def load_command(name: str) -> ModuleType:
    """Import ``tray.commands.<name>``; :class:`NotAvailable` if that module does not exist yet."""
    module_name = f"tray.commands.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise NotAvailable(name) from None
        raise
    if not callable(getattr(module, "configure", None)) or not callable(getattr(module, "run", None)):
        raise NotAvailable(name)
    return module


def _run_tray(args: argparse.Namespace) -> int:
    try:
        app = importlib.import_module("tray.app")
    except ModuleNotFoundError as exc:
        if exc.name == "tray.app":
            raise NotAvailable("tray") from None
        raise
    run_tray = getattr(app, "run_tray", None)
    if run_tray is None:
        raise NotAvailable("tray")
    return int(run_tray(args) or 0)


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[argparse.Namespace, ModuleType | None]:
    top = parser.parse_args(argv)
    if top.command is None:
        if top.command_args:
            parser.error(f"unrecognized arguments: {' '.join(top.command_args)}")
        return top, None
    name = top.command
    if name not in COMMANDS:
        parser.error(f"unknown command {name!r} (choose from {', '.join(COMMANDS)})")
    module = load_command(name)
    sub = argparse.ArgumentParser(prog=f"snaplark {name}", description=COMMANDS[name],
                                  parents=[_global_flags(suppress=True)])
    module.configure(sub)
    args = sub.parse_args(top.command_args)
    args.command = name
    args.verbose = bool(getattr(args, "verbose", False) or top.verbose)
    args.config = getattr(args, "config", None) or top.config
    return args, module


def _missing_config_file(args: argparse.Namespace) -> str | None:
    """``--config FILE`` names a file the user expects to be read: a missing one is an error, not silent defaults
    (``config set`` creates it, ``config path`` only prints it)."""
    path = getattr(args, "config", None)
    if path is None or Path(path).expanduser().exists():
        return None
    if args.command == "config" and getattr(args, "action", None) in ("set", "path"):
        return None
    return (f"--config {path}: no such settings file; create it with `snaplark --config {path} config set KEY "
            f"VALUE`, or leave out --config to use {_default_config_file()}")


def _default_config_file() -> Path:
    from tray import paths

    return paths.config_file()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``snaplark`` script; returns the exit status (2 = usage or configuration error)."""
    from tray.config import ConfigError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, module = _parse(parser, argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    except NotAvailable as exc:
        print(f"snaplark {exc.args[0]}: not available yet", file=sys.stderr)
        return EXIT_USAGE

    import os

    from tray.log import setup_logging
    from tray.paths import PRIVATE_UMASK

    os.umask(PRIVATE_UMASK)  # journal, logs, settings, captures, spool: the user's alone (files 0600, dirs 0700)
    setup_logging(args.verbose)
    name = args.command or "tray"
    problem = _missing_config_file(args)
    if problem:
        print(f"snaplark: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if module is None:
            return _run_tray(args)
        return int(module.run(args) or 0)
    except NotAvailable as exc:
        print(f"snaplark {exc.args[0]}: not available yet", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"snaplark: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"snaplark {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from tray.api.token_store import KeyringUnavailable

        if isinstance(exc, KeyringUnavailable):
            print(f"snaplark {name}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            from tray.api.errors import ApiError
        except ImportError:  # pragma: no cover - the API package is part of the app
            ApiError = ()  # type: ignore[assignment,misc]
        if isinstance(exc, ApiError):
            print(f"snaplark {name}: {exc}", file=sys.stderr)
            return 1
        log.exception("snaplark %s failed", name)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
