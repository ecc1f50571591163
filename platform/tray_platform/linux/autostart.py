"""Start at login on Linux desktops: an XDG autostart entry (``$XDG_CONFIG_HOME/autostart/snaplark.desktop``).

The Desktop Application Autostart Specification: at login the session manager (gnome-session, KDE's plasma,
xfce4-session, lxsession, dex, systemd's xdg-autostart-generator) runs the ``Exec`` line of every ``.desktop`` file in
``$XDG_CONFIG_HOME/autostart`` (default ``~/.config/autostart``) and ``$XDG_CONFIG_DIRS/*/autostart``, unless the entry
says ``Hidden=true`` (or ``X-GNOME-Autostart-enabled=false``), or its ``TryExec`` program is missing. A user file with
the same name as a system-wide one overrides it, which is how ``disable`` turns off a system-wide entry.

``Exec`` quoting follows the Desktop Entry Specification ("The Exec key"): arguments with reserved characters are
double-quoted, ``"`` `` ` `` ``$`` ``\\`` inside quotes get a backslash, ``%`` is doubled, and then the whole value
gets the string-value escapes (``\\`` for a backslash). :func:`exec_quote` and :func:`exec_split` are inverses.

No OS library is needed; nothing here needs a display. Not thread-safe: one instance per thread (it only touches
files, atomically replaced).
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Mapping

ENTRY_NAME = "snaplark.desktop"
APP_NAME = "Snaplark"
ICON_NAME = "snaplark"
MANAGED_KEY = "X-Snaplark-Managed"

# Characters that force an argument to be quoted (Desktop Entry Spec, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = set('"`$\\')
# String-value escapes (Desktop Entry Spec, "Possible value types").
_STRING_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


class ExecSyntaxError(ValueError):
    """An ``Exec`` value that the Desktop Entry Specification does not allow (unbalanced quote, bad escape)."""


def _quote_arg(arg: str) -> str:
    if "\n" in arg or "\r" in arg or "\0" in arg:
        raise ValueError(f"an autostart command argument cannot contain a line break or NUL: {arg!r}")
    arg = arg.replace("%", "%%")
    if arg and not any(c in _RESERVED for c in arg):
        return arg
    return '"' + "".join("\\" + c if c in _ESCAPED_IN_QUOTES else c for c in arg) + '"'


def exec_quote(argv: list[str]) -> str:
    """The ``Exec=`` value (as written in the file, string escapes applied) that runs ``argv``."""
    if not argv or not argv[0]:
        raise ValueError("the autostart command is empty")
    exec_value = " ".join(_quote_arg(a) for a in argv)
    return exec_value.replace("\\", "\\\\")


def _unescape_string(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value) and value[i + 1] in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[value[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def exec_split(value: str) -> list[str]:
    """Parse an ``Exec=`` value as read from the file into argv (field codes such as ``%U`` are dropped,
    ``%%`` becomes ``%``)."""
    text = _unescape_string(value)
    args: list[str] = []
    current: list[str] = []
    in_arg = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            in_arg = True
            i += 1
            while True:
                if i >= len(text):
                    raise ExecSyntaxError(f"unbalanced quote in Exec value: {value!r}")
                c = text[i]
                if c == "\\":
                    if i + 1 >= len(text) or text[i + 1] not in _ESCAPED_IN_QUOTES:
                        raise ExecSyntaxError(f"bad escape inside quotes in Exec value: {value!r}")
                    current.append(text[i + 1])
                    i += 2
                elif c == '"':
                    i += 1
                    break
                elif c == "%" and text[i + 1:i + 2] == "%":
                    current.append("%")
                    i += 2
                else:
                    current.append(c)
                    i += 1
            continue
        if c in " \t":
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
            i += 1
            continue
        if c == "%" and i + 1 < len(text):
            code = text[i + 1]
            if code == "%":
                current.append("%")
                in_arg = True
            # any other field code (%f %F %u %U %i %c %k ...) expands to nothing at login
            i += 2
            continue
        current.append(c)
        in_arg = True
        i += 1
    if in_arg:
        args.append("".join(current))
    return args


def desktop_entry(command: list[str], *, comment: str = "Screenshots and screen recordings from the tray") -> str:
    """The text of the autostart ``.desktop`` file that runs ``command`` at login."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        f"Name={APP_NAME}",
        f"Comment={comment}",
        f"Exec={exec_quote(command)}",
    ]
    if os.path.isabs(command[0]):
        # The session skips the entry (instead of failing at each login) once the program is gone.
        lines.append(f"TryExec={command[0].replace(chr(92), chr(92) * 2)}")
    lines += [
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "NoDisplay=true",
        "StartupNotify=false",
        "X-GNOME-Autostart-enabled=true",
        f"{MANAGED_KEY}=true",
    ]
    return "\n".join(lines) + "\n"


def _read_entry(path: Path) -> Mapping[str, str] | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",),
                                       comment_prefixes=("#",), inline_comment_prefixes=None)
    parser.optionxform = str  # keys are case-sensitive
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    if not parser.has_section("Desktop Entry"):
        return None
    return dict(parser["Desktop Entry"])


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _entry_enabled(entry: Mapping[str, str]) -> bool:
    if _is_true(entry.get("Hidden")):
        return False
    if entry.get("X-GNOME-Autostart-enabled", "true").strip().lower() == "false":
        return False
    return bool(entry.get("Exec", "").strip())


class XdgAutostart:
    """``Autostart`` for freedesktop sessions. ``env`` defaults to ``os.environ`` (read at call time)."""

    name = "linux-xdg"

    def __init__(self, *, env: Mapping[str, str] | None = None, home: Path | None = None):
        self._env = env
        self._home = home

    # --- locations -------------------------------------------------------------------------------------------
    def _environ(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def _home_dir(self) -> Path:
        if self._home is not None:
            return Path(self._home)
        home = self._environ().get("HOME")
        return Path(home) if home else Path.home()

    def config_home(self) -> Path:
        value = self._environ().get("XDG_CONFIG_HOME", "").strip()
        # The spec: a relative path in an XDG variable is invalid and must be ignored.
        if value and os.path.isabs(value):
            return Path(value)
        return self._home_dir() / ".config"

    def system_config_dirs(self) -> list[Path]:
        value = self._environ().get("XDG_CONFIG_DIRS", "").strip() or "/etc/xdg"
        return [Path(p) for p in value.split(":") if p and os.path.isabs(p)]

    @property
    def path(self) -> Path:
        """The user's autostart entry (what ``enable`` writes)."""
        return self.config_home() / "autostart" / ENTRY_NAME

    def _system_entries(self) -> list[Path]:
        return [d / "autostart" / ENTRY_NAME for d in self.system_config_dirs()
                if (d / "autostart" / ENTRY_NAME).is_file()]

    def _effective_entry(self) -> Mapping[str, str] | None:
        """The entry the session will use: the user's file wins over system-wide ones with the same name."""
        if self.path.exists():
            return _read_entry(self.path)
        for path in self._system_entries():
            return _read_entry(path)
        return None

    # --- Autostart protocol ----------------------------------------------------------------------------------
    def enable(self, command: list[str]) -> None:
        text = desktop_entry(list(command))
        self._write(text)

    def disable(self) -> None:
        if self._system_entries():
            # A system-wide entry exists: only a user entry with Hidden=true turns it off (the spec's "deleted").
            self._write("[Desktop Entry]\nType=Application\n"
                        f"Name={APP_NAME}\nExec=snaplark\nHidden=true\n{MANAGED_KEY}=true\n")
            return
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def is_enabled(self) -> bool:
        entry = self._effective_entry()
        return entry is not None and _entry_enabled(entry)

    def command(self) -> list[str] | None:
        """The argv the session would run at login, or None when autostart is off."""
        entry = self._effective_entry()
        if entry is None or not _entry_enabled(entry):
            return None
        return exec_split(entry["Exec"])

    def location(self) -> str:
        return str(self.path)

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{ENTRY_NAME}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.path)


def create(**kwargs) -> XdgAutostart:
    return XdgAutostart(**kwargs)
