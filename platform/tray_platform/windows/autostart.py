"""Start at login on Windows: the per-user Run key.

``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`` value ``Snaplark`` (REG_SZ) holds the command line that
Explorer runs at logon. Task Manager's "Startup apps" tab does not touch that value when the user disables the
entry: it writes ``...\\Explorer\\StartupApproved\\Run`` value ``Snaplark`` (REG_BINARY, 12 bytes; first byte even =
enabled, odd = disabled). So ``is_enabled`` reads both, and ``enable`` removes a "disabled" mark left there.

The registry is reached through an injected :class:`CurrentUserRegistry` (default: :class:`WinregRegistry`, which
imports ``winreg`` lazily), so the exact keys, values and command-line quoting are checked by tests on any OS. The
Inno Setup script (installer/windows/snaplark.iss) and the helper (installer/windows/autostart.ps1) write the same
key and value name. Not thread-safe: one instance per thread.
"""

from __future__ import annotations

import subprocess
from typing import Any, Protocol

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
VALUE_NAME = "Snaplark"


class CurrentUserRegistry(Protocol):
    """The few HKEY_CURRENT_USER operations autostart needs."""

    def read(self, key: str, name: str) -> Any | None: ...  # value, or None if the key or value is missing
    def write_string(self, key: str, name: str, value: str) -> None: ...  # REG_SZ, creating the key
    def delete(self, key: str, name: str) -> None: ...  # no error if missing


class WinregRegistry:
    """:class:`CurrentUserRegistry` over the real registry (Windows only)."""

    def read(self, key: str, name: str) -> Any | None:
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_QUERY_VALUE) as handle:
                value, _type = winreg.QueryValueEx(handle, name)
        except FileNotFoundError:
            return None
        return value

    def write_string(self, key: str, name: str, value: str) -> None:
        import winreg

        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
            winreg.SetValueEx(handle, name, 0, winreg.REG_SZ, value)

    def delete(self, key: str, name: str) -> None:
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.DeleteValue(handle, name)
        except FileNotFoundError:
            pass


def command_line(command: list[str]) -> str:
    """The Run-key string for ``command`` (MS C runtime quoting, as ``CreateProcess`` + ``CommandLineToArgvW``
    parse it)."""
    if not command or not command[0]:
        raise ValueError("the autostart command is empty")
    return subprocess.list2cmdline([str(a) for a in command])


def _approved_says_disabled(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray)) and len(value) >= 1:
        return bool(value[0] & 1)
    return False


class RunKeyAutostart:
    """``Autostart`` through ``HKCU\\...\\CurrentVersion\\Run``."""

    name = "windows-runkey"

    def __init__(self, *, registry: CurrentUserRegistry | None = None):
        self._registry = registry if registry is not None else WinregRegistry()

    def enable(self, command: list[str]) -> None:
        self._registry.write_string(RUN_KEY, VALUE_NAME, command_line(list(command)))
        self._registry.delete(APPROVED_KEY, VALUE_NAME)

    def disable(self) -> None:
        self._registry.delete(RUN_KEY, VALUE_NAME)
        self._registry.delete(APPROVED_KEY, VALUE_NAME)

    def is_enabled(self) -> bool:
        value = self._registry.read(RUN_KEY, VALUE_NAME)
        if not isinstance(value, str) or not value.strip():
            return False
        return not _approved_says_disabled(self._registry.read(APPROVED_KEY, VALUE_NAME))

    def command(self) -> list[str] | None:
        if not self.is_enabled():
            return None
        return split_command_line(self._registry.read(RUN_KEY, VALUE_NAME))

    def location(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{VALUE_NAME}"


def split_command_line(line: str) -> list[str]:
    """Inverse of :func:`command_line` (the ``CommandLineToArgvW`` rules for arguments after the first)."""
    args: list[str] = []
    current: list[str] = []
    in_quotes = False
    has_arg = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            j = i
            while j < len(line) and line[j] == "\\":
                j += 1
            n = j - i
            if j < len(line) and line[j] == '"':
                current.append("\\" * (n // 2))
                if n % 2:
                    current.append('"')
                    i = j + 1
                else:
                    i = j
                has_arg = True
                continue
            current.append("\\" * n)
            has_arg = True
            i = j
            continue
        if c == '"':
            in_quotes = not in_quotes
            has_arg = True
            i += 1
            continue
        if c in " \t" and not in_quotes:
            if has_arg:
                args.append("".join(current))
                current, has_arg = [], False
            i += 1
            continue
        current.append(c)
        has_arg = True
        i += 1
    if has_arg:
        args.append("".join(current))
    return args


def create(**kwargs: Any) -> RunKeyAutostart:
    return RunKeyAutostart(**kwargs)
