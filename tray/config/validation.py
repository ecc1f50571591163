"""What is wrong with a setting: :class:`ConfigError` and the per-value validators.

A validator takes the raw TOML value and returns an error reason, or None when the value is fine; the schema
(:mod:`tray.config.schema`) attaches one to every field. :class:`ConfigError` names the key, the value and the file
of each problem. Hotkeys are checked with the one hotkey grammar (:mod:`tray.config.hotkey_grammar`).

Threading: everything here is pure; :class:`ConfigError` is an ordinary exception.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from tray.config.hotkey_grammar import HotkeyError, parse_hotkey


# --------------------------------------------------------------------------------------------------- errors
class ConfigError(Exception):
    """A settings file that cannot be used. ``key``/``value``/``reason`` describe the first problem;
    ``problems`` lists all of them as ``(key, value, reason)``."""

    def __init__(self, path: Path | str | None, problems: list[tuple[str, Any, str]], *, refused: bool = False):
        self.path = Path(path) if path is not None else None
        self.problems = list(problems)
        self.key, self.value, self.reason = self.problems[0]
        self.refused = refused  # a change that was not made (``config set``): the file itself is fine
        super().__init__(self._format())

    def _format(self) -> str:
        where = str(self.path) if self.path is not None else "<settings>"
        if self.refused:
            lines = [f"{self._one(*p)}" for p in self.problems]
            return f"not changed: {'; '.join(lines)} ({where} is unchanged)"

        if len(self.problems) == 1:
            return f"invalid setting in {where}: {self._one(*self.problems[0])}"
        lines = [f"{len(self.problems)} invalid settings in {where}:"]
        lines += [f"  {self._one(*p)}" for p in self.problems]
        return "\n".join(lines)

    @staticmethod
    def _one(key: str, value: Any, reason: str) -> str:
        if value is NO_VALUE:
            return f"{key}: {reason}"
        return f"{key} = {show_value(value)}: {reason}"


class _NoValue:
    def __repr__(self) -> str:  # pragma: no cover - never shown
        return "<no value>"


NO_VALUE = _NoValue()
"""The ``value`` of a problem that is not about one value (e.g. the file is not TOML): the message omits it."""


def show_value(value: Any) -> str:
    """How a problem's value is shown in a :class:`ConfigError` message (TOML booleans, long tables cut)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return repr(value)


# ----------------------------------------------------------------------------------------------- validators
# A validator takes the raw TOML value and returns an error reason, or None when the value is fine.
Validator = Callable[[Any], "str | None"]


def is_int(value: Any) -> bool:
    """An integer TOML value (``true``/``false`` are not integers here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def v_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected true or false, got {type(value).__name__}"


def v_str(value: Any) -> str | None:
    return None if isinstance(value, str) else f"expected a string, got {type(value).__name__}"


def v_int_range(lo: int, hi: int | None) -> Validator:
    def check(value: Any) -> str | None:
        if not is_int(value):
            return f"expected an integer, got {type(value).__name__}"
        if value < lo or (hi is not None and value > hi):
            return f"must be between {lo} and {hi}" if hi is not None else f"must be at least {lo}"
        return None

    return check


def v_choice(*choices: str) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"expected a string, got {type(value).__name__}"
        if value not in choices:
            return "must be one of " + ", ".join(repr(c) for c in choices)
        return None

    return check


def v_url(value: Any) -> str | None:
    """Empty (= embedded server) or an absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    if value == "":
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL, or empty for the embedded server"
    if any(c.isspace() for c in value):
        return "a URL cannot contain spaces"
    return None


# Durations (upload.expires, snaplark upload --expires): "7d", "12h", "30m", "90s", "2w" or plain seconds
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}
MAX_DURATION = 100 * 365 * 86_400


def parse_duration(text: str) -> int | None:
    """Seconds of a duration like ``7d``, ``12h``, ``30m``, ``90s``, ``2w`` or ``3600``; None for ``""`` or
    ``never``. ValueError with the reason for anything else (zero, negative, fractions, unknown units)."""
    value = text.strip().lower()
    if value in ("", "never"):
        return None
    number, unit = (value[:-1], value[-1]) if value[-1:] in _DURATION_UNITS else (value, "s")
    if not number.isdigit() or int(number) == 0:
        raise ValueError(f"expected a duration like 7d, 12h, 30m, 90s, 2w (or seconds), or never; got {text!r}")
    seconds = int(number) * _DURATION_UNITS[unit]
    if seconds > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than 100 years")
    return seconds


def v_duration(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected a string like \"7d\" (or \"\" for never), got {type(value).__name__}"
    try:
        parse_duration(value)
    except ValueError as exc:
        return str(exc)
    return None


# Hotkeys: config validation, `config set` and registration (tray.ui.hotkeys) all go through the one grammar's
# parse_hotkey, so whatever the settings file accepts is exactly what gets registered.
def hotkey_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a hotkey, or None if it can; ``""`` turns the hotkey off. ``Ctrl+Alt+S`` and
    ``<ctrl>+<alt>+s`` are the same hotkey (see :func:`tray.config.hotkey_grammar.parse_hotkey` for the rules)."""
    if value == "":
        return None
    try:
        parse_hotkey("hotkey", value)
    except HotkeyError as exc:
        return exc.reason
    return None


def v_hotkey(value: Any) -> str | None:
    return hotkey_problem(value)
