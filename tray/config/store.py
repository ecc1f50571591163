"""The settings file: where it is, loading (with migration), saving atomically, and ``snaplark config get/set``.

The file lives at :func:`tray.paths.config_file` (``$SNAPLARK_CONFIG`` overrides). A missing file means "all
defaults". Loading is all-or-nothing: every value is validated (:func:`tray.config.schema.settings_from_dict`) and all
problems are reported as one :class:`ConfigError` naming the key, the value and the file, so the app never starts
with half a config. An older file is migrated on load (:mod:`tray.config.migration`), validated, then rewritten
atomically with the original kept next to it as ``config.toml.v1.bak``. ``config set`` validates the whole resulting
file before writing it; unknown keys already in the file are preserved.

Threading: the functions share no state; two writers of the same file race (the last rename wins, never a partial
file).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from tray import paths
from tray.config.migration import migrate
from tray.config.schema import (
    SCHEMA_VERSION,
    HotkeySettings,
    Settings,
    hotkey_clashes,
    setting_field,
    setting_keys,
    settings_from_dict,
)
from tray.config.validation import NO_VALUE, ConfigError, v_hotkey

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------- file access
def resolve_path(path: Path | str | None = None) -> Path:
    return Path(path).expanduser() if path else paths.config_file()


def read_raw(path: Path) -> dict[str, Any]:
    """Parse the TOML file (``{}`` if it does not exist); errors become :class:`ConfigError`."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [("(file)", NO_VALUE, f"not valid TOML: {exc}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [("(file)", NO_VALUE, f"cannot read: {exc}")]) from None


def load_config(path: Path | str | None = None) -> Settings:
    """Load settings from ``path`` (default: ``$SNAPLARK_CONFIG`` or the platformdirs config dir).

    A missing file gives the defaults. An old schema is migrated and the file rewritten (backup kept)."""
    path = resolve_path(path)
    raw = read_raw(path)
    data, version = migrate(raw, path)
    settings = settings_from_dict(data, path)  # validate before touching the file
    if version < SCHEMA_VERSION:
        backup = path.with_name(f"{path.name}.v{version}.bak")
        try:
            if not backup.exists():
                shutil.copy2(path, backup)
            atomic_write_bytes(path, _dump(data))
            log.info("migrated %s from schema v%d to v%d (backup: %s)", path, version, SCHEMA_VERSION, backup)
        except OSError as exc:
            log.warning("could not rewrite migrated settings file %s: %s (using migrated values)", path, exc)
    return settings


def _dump(data: dict[str, Any]) -> bytes:
    data = dict(data)
    ordered = {"schema_version": data.pop("schema_version", SCHEMA_VERSION), **data}
    header = "# Snaplark settings. `snaplark config show` prints every setting; see README for each key.\n"
    return (header + tomli_w.dumps(ordered)).encode("utf-8")


def save_config(settings: Settings, path: Path | str | None = None) -> Path:
    """Atomically write ``settings`` (every key, defaults included). Returns the path written."""
    path = resolve_path(path)
    atomic_write_bytes(path, _dump(settings.to_dict()))
    return path


def atomic_write_bytes(path: Path, data: bytes, mode: int = paths.PRIVATE_FILE_MODE) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a partial one:
    temp file in the same directory, fsync, rename over, fsync the directory. The file is ``mode`` (0600: settings
    are the user's alone), in a directory created 0700."""
    path = Path(path)
    if not path.parent.exists():
        paths.ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        except OSError:  # some filesystems refuse fsync on directories
            pass
        finally:
            os.close(dfd)


# ------------------------------------------------------------------------------------------- dotted access
def get_value(settings: Settings, key: str) -> Any:
    """``get_value(s, "capture.fps")``; ``KeyError`` for an unknown key."""
    if key == "schema_version":
        return settings.schema_version
    section, f = setting_field(key)
    return getattr(getattr(settings, section), f.name)


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_value(key: str, text: str) -> Any:
    """Turn command-line text into the setting's type (no range checks; see :func:`set_value`)."""
    _, f = setting_field(key)
    if f.type in (bool, "bool"):
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return text
    if f.type in (int, "int"):
        try:
            return int(text.strip().replace("_", ""))
        except ValueError:
            return text
    return text


def check_hotkey_change(path: Path | str | None, key: str, text: str) -> None:
    """Before ``config set hotkeys.NAME VALUE``: raise a refusing :class:`ConfigError` when VALUE is a combination
    another hotkey already uses, naming both, NAME as the one refused. Anything else wrong (a bad value, a broken
    file) is left to :func:`set_value` to report."""
    section, _, name = key.partition(".")
    if section != "hotkeys" or name not in {f.name for f in dataclasses.fields(HotkeySettings)} or v_hotkey(text):
        return
    path = resolve_path(path)
    try:
        data, _ = migrate(read_raw(path), path)
        settings_from_dict(data, path)
    except ConfigError:
        return
    table = data.get("hotkeys", {})
    given = {n: v for n, v in table.items() if n != name and v_hotkey(v) is None}
    problems = [p for p in hotkey_clashes({**given, name: text}, last=name) if p[0] == key]
    if problems:
        raise ConfigError(path, problems, refused=True)


def set_value(path: Path | str | None, key: str, text: str) -> Settings:
    """``snaplark config set``: parse ``text`` for ``key``, validate the whole resulting file, write it
    atomically. Unknown keys already in the file are preserved. Raises :class:`ConfigError` (nothing written)."""
    path = resolve_path(path)
    try:
        section, f = setting_field(key)
    except KeyError:
        raise ConfigError(path, [(key, text, "no such setting; keys: " + ", ".join(setting_keys()))],
                          refused=True) from None
    data, _ = migrate(read_raw(path), path)
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    data["schema_version"] = SCHEMA_VERSION
    table = data.setdefault(section, {})
    if not isinstance(table, dict):
        table = data[section] = {}
    try:
        table[f.name] = parse_value(key, text)
    except ConfigError as exc:  # the new value is what is wrong: the file stays as it is
        raise ConfigError(path, exc.problems, refused=True) from None
    try:
        settings = settings_from_dict(data, path)
    except ConfigError as exc:  # "refused" when only the new value is wrong; other bad keys are the file's fault
        raise ConfigError(path, exc.problems, refused=all(p[0] == key for p in exc.problems)) from None
    atomic_write_bytes(path, _dump(data))
    return settings


def set_values(path: Path | str | None, changes: dict[str, Any]) -> Settings:
    """Several settings at once (the Settings window's Save): ``changes`` maps dotted keys to values; text is parsed
    as ``config set`` parses it (:func:`parse_value`). The whole resulting file is validated before it is written
    atomically; unknown keys already in the file are preserved. Raises :class:`ConfigError` (nothing written),
    ``refused`` when only changed keys are wrong; ``KeyError`` for an unknown key."""
    path = resolve_path(path)
    data, _ = migrate(read_raw(path), path)
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    data["schema_version"] = SCHEMA_VERSION
    for key, value in changes.items():
        section, f = setting_field(key)
        table = data.get(section)
        if not isinstance(table, dict):
            table = data[section] = {}
        table[f.name] = parse_value(key, value) if isinstance(value, str) else value
    try:
        settings = settings_from_dict(data, path)
    except ConfigError as exc:
        raise ConfigError(path, exc.problems, refused=all(p[0] in changes for p in exc.problems)) from None
    atomic_write_bytes(path, _dump(data))
    return settings


def format_value(value: Any) -> str:
    """How ``snaplark config get`` prints a value (TOML spelling for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dumps(settings: Settings) -> str:
    """TOML text of every setting (``snaplark config show``)."""
    return tomli_w.dumps(settings.to_dict())
