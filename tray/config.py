"""Typed Snaplark settings, stored as TOML.

The file lives at :func:`tray.paths.config_file` (``$SNAPLARK_CONFIG`` overrides). A missing file means "all
defaults". Loading is all-or-nothing: every value is validated and the first problem (all problems, in fact) is
reported as one :class:`ConfigError` naming the key, the value and the file, so the app never starts with half a
config. Unknown keys are ignored with a warning naming the key and the file.

Schema versions:

* v1 (tray 0.0.x) was flat: ``server_url``, ``embedded_port``, ``fps``, ``bitrate``, ``show_cursor``,
  ``countdown``, ``auto_upload``, ``keep_local_copy``, ``save_dir``, ``notifications``, ``hotkey_region``,
  ``hotkey_screen``, ``hotkey_record``, ``hotkey_stop``; it had no ``schema_version`` key (or ``schema_version = 1``).
* v2 (current) groups settings in the sections ``server``, ``hotkeys``, ``capture``, ``upload``,
  ``notifications`` and stores ``schema_version = 2``.

An older file is migrated on load, validated, then rewritten atomically with the original kept next to it as
``config.toml.v1.bak``.

Threading: :class:`Settings` and its sections are frozen dataclasses, safe to share between threads; change a
setting with :func:`dataclasses.replace` or :func:`set_value` and save the new object.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import tomli_w

from tray import paths

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2


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
        if value is _NO_VALUE:
            return f"{key}: {reason}"
        return f"{key} = {_show(value)}: {reason}"


class _NoValue:
    def __repr__(self) -> str:  # pragma: no cover - never shown
        return "<no value>"


_NO_VALUE = _NoValue()


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return repr(value)


# ----------------------------------------------------------------------------------------------- validators
# A validator takes the raw TOML value and returns an error reason, or None when the value is fine.
Validator = Callable[[Any], "str | None"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def v_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected true or false, got {type(value).__name__}"


def v_str(value: Any) -> str | None:
    return None if isinstance(value, str) else f"expected a string, got {type(value).__name__}"


def v_int_range(lo: int, hi: int | None) -> Validator:
    def check(value: Any) -> str | None:
        if not _is_int(value):
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


# Hotkeys: the grammar lives with registration in tray.ui.hotkeys (pure Python, no display; imported lazily so this
# module stays free of UI code). Config validation, `config set` and registration all go through its parse_hotkey,
# so whatever the settings file accepts is exactly what gets registered.
def hotkey_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a hotkey, or None if it can; ``""`` turns the hotkey off. ``Ctrl+Alt+S`` and
    ``<ctrl>+<alt>+s`` are the same hotkey (see :func:`tray.ui.hotkeys.parse_hotkey` for the rules)."""
    if value == "":
        return None
    from tray.ui.hotkeys import HotkeyError, parse_hotkey

    try:
        parse_hotkey("hotkey", value)
    except HotkeyError as exc:
        return exc.reason
    return None


def v_hotkey(value: Any) -> str | None:
    return hotkey_problem(value)


def hotkey_clashes(given: dict[str, Any], *, last: str | None = None) -> list[tuple[str, Any, str]]:
    """``(key, value, reason)`` for each hotkey that uses the same combination as another (compared in canonical
    form: ``Ctrl+Alt+S`` == ``<ctrl>+<alt>+s``). ``given``: the ``[hotkeys]`` values written in the file that passed
    :func:`v_hotkey`; the others hold their defaults. The setting refused is the later one -- defaults first, then
    the file's in field order, ``last`` (what ``config set`` changes) at the very end -- and the message names the
    other one."""
    from tray.ui.hotkeys import parse_hotkeys

    fields = dataclasses.fields(HotkeySettings)
    defaults = [f.name for f in fields if f.name not in given]
    order = defaults + [f.name for f in fields if f.name in given and f.name != last]
    order += [last] if last in given else []
    values = {f.name: given.get(f.name, f.default) for f in fields}
    _, errors = parse_hotkeys({name: values[name] for name in order}, defaults=defaults)
    return [(e.setting, e.value, e.reason) for e in errors]


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


def _opt(validator: Validator) -> dict:
    return {"validator": validator}


# ------------------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ServerSettings:
    url: str = field(default="", metadata=_opt(v_url))  # "" = embedded reference server; else API base URL
    embedded_port: int = field(default=8765, metadata=_opt(v_int_range(1, 65535)))


@dataclass(frozen=True)
class HotkeySettings:
    capture_region: str = field(default="<ctrl>+<alt>+s", metadata=_opt(v_hotkey))
    capture_screen: str = field(default="<ctrl>+<alt>+a", metadata=_opt(v_hotkey))
    record_region: str = field(default="<ctrl>+<alt>+r", metadata=_opt(v_hotkey))
    stop_recording: str = field(default="<ctrl>+<alt>+q", metadata=_opt(v_hotkey))
    pause_recording: str = field(default="<ctrl>+<alt>+p", metadata=_opt(v_hotkey))


@dataclass(frozen=True)
class CaptureSettings:
    fps: int = field(default=30, metadata=_opt(v_int_range(1, 120)))
    format: str = field(default="webm", metadata=_opt(v_choice("webm")))
    bitrate: int = field(default=2_500_000, metadata=_opt(v_int_range(1, None)))  # bits per second
    cursor: bool = field(default=True, metadata=_opt(v_bool))
    countdown: int = field(default=3, metadata=_opt(v_int_range(0, 10)))  # seconds
    max_duration: int = field(default=0, metadata=_opt(v_int_range(0, None)))  # seconds, 0 = unlimited
    # "auto": the microphone when one exists, else none (tray.capture.audio.resolve_audio_mode)
    audio: str = field(default="auto", metadata=_opt(v_choice("auto", "none", "mic", "system", "both")))
    mic_device: str = field(default="", metadata=_opt(v_str))  # "" = the system's default microphone


@dataclass(frozen=True)
class UploadSettings:
    auto_upload: bool = field(default=True, metadata=_opt(v_bool))
    keep_local_copy: bool = field(default=True, metadata=_opt(v_bool))
    save_dir: str = field(default="", metadata=_opt(v_str))  # "" = tray.paths.captures_dir()

    def resolved_save_dir(self) -> Path:
        """Where local copies go: ``save_dir`` (``~`` expanded) or the default captures dir."""
        return Path(self.save_dir).expanduser() if self.save_dir else paths.captures_dir()

    def ensure_save_dir(self) -> Path:
        """:meth:`resolved_save_dir`, created 0700 if missing (the default folder is made 0700 even if it exists;
        a folder the user chose keeps its mode)."""
        return paths.ensure_private_dir(self.resolved_save_dir(), ours=not self.save_dir)


@dataclass(frozen=True)
class NotificationSettings:
    enabled: bool = field(default=True, metadata=_opt(v_bool))
    progress: bool = field(default=True, metadata=_opt(v_bool))


@dataclass(frozen=True)
class Settings:
    schema_version: int = SCHEMA_VERSION
    server: ServerSettings = field(default_factory=ServerSettings)
    hotkeys: HotkeySettings = field(default_factory=HotkeySettings)
    capture: CaptureSettings = field(default_factory=CaptureSettings)
    upload: UploadSettings = field(default_factory=UploadSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(Settings)  # type: ignore[misc]
                             if f.name != "schema_version"}


def setting_keys() -> list[str]:
    """Every dotted key, e.g. ``capture.fps``, in file order."""
    return [f"{section}.{f.name}" for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)]


def _field(key: str) -> tuple[str, dataclasses.Field]:
    section, _, name = key.partition(".")
    cls = SECTIONS.get(section)
    if cls is not None:
        for f in dataclasses.fields(cls):
            if f.name == name:
                return section, f
    raise KeyError(key)


# ------------------------------------------------------------------------------------------------ migration
# v1 flat key -> v2 dotted key
V1_KEYS = {
    "server_url": "server.url",
    "embedded_port": "server.embedded_port",
    "fps": "capture.fps",
    "bitrate": "capture.bitrate",
    "show_cursor": "capture.cursor",
    "countdown": "capture.countdown",
    "auto_upload": "upload.auto_upload",
    "keep_local_copy": "upload.keep_local_copy",
    "save_dir": "upload.save_dir",
    "notifications": "notifications.enabled",
    "hotkey_region": "hotkeys.capture_region",
    "hotkey_screen": "hotkeys.capture_screen",
    "hotkey_record": "hotkeys.record_region",
    "hotkey_stop": "hotkeys.stop_recording",
}


def _detect_version(data: dict[str, Any], path: Path) -> int:
    version = data.get("schema_version", _NO_VALUE)
    if version is _NO_VALUE:
        # No version key: a v1 file if it uses any flat v1 key; otherwise a hand-written current file.
        return 1 if any(k in V1_KEYS and not isinstance(data[k], dict) for k in data) else SCHEMA_VERSION
    if not _is_int(version) or version < 1:
        raise ConfigError(path, [("schema_version", version, "must be a positive integer")])
    if version > SCHEMA_VERSION:
        raise ConfigError(path, [("schema_version", version,
                                  f"written by a newer Snaplark (this one reads up to {SCHEMA_VERSION}); "
                                  "upgrade Snaplark or move the file away")])
    return version


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"schema_version": 2}
    for key, value in data.items():
        if key == "schema_version":
            continue
        target = V1_KEYS.get(key)
        if target is None:
            out[key] = value  # unknown: kept so the unknown-key warning names it
            continue
        section, name = target.split(".")
        out.setdefault(section, {})[name] = value
    return out


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_v1}


def migrate(data: dict[str, Any], path: Path) -> tuple[dict[str, Any], int]:
    """Bring raw TOML data up to :data:`SCHEMA_VERSION`; returns ``(data, version it was read as)``."""
    original = version = _detect_version(data, path)
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data, original


# ----------------------------------------------------------------------------------------------- validation
def settings_from_dict(data: dict[str, Any], path: Path | None = None) -> Settings:
    """Validate current-schema raw data and build :class:`Settings`. Unknown keys → warning; bad values →
    :class:`ConfigError` listing each problem."""
    where = str(path) if path is not None else "<settings>"
    problems: list[tuple[str, Any, str]] = []
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key == "schema_version":
            if value != SCHEMA_VERSION:
                problems.append((key, value, f"expected {SCHEMA_VERSION}"))
            continue
        cls = SECTIONS.get(key)
        if cls is None:
            log.warning("unknown config key %r in %s (ignored)", key, where)
            continue
        if not isinstance(value, dict):
            problems.append((key, value, f"expected a [{key}] table"))
            continue
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for name, item in value.items():
            f = known.get(name)
            if f is None:
                log.warning("unknown config key %r in %s (ignored)", f"{key}.{name}", where)
                continue
            reason = f.metadata["validator"](item)
            if reason:
                problems.append((f"{key}.{name}", item, reason))
            else:
                kwargs[name] = item
        sections[key] = kwargs
    problems += hotkey_clashes(sections.get("hotkeys", {}))  # the same combination for two actions
    if problems:
        raise ConfigError(path, problems)
    return Settings(**{name: SECTIONS[name](**kwargs) for name, kwargs in sections.items()})


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
        raise ConfigError(path, [("(file)", _NO_VALUE, f"not valid TOML: {exc}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [("(file)", _NO_VALUE, f"cannot read: {exc}")]) from None


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
    section, f = _field(key)
    return getattr(getattr(settings, section), f.name)


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_value(key: str, text: str) -> Any:
    """Turn command-line text into the setting's type (no range checks; see :func:`set_value`)."""
    _, f = _field(key)
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


def set_value(path: Path | str | None, key: str, text: str) -> Settings:
    """``snaplark config set``: parse ``text`` for ``key``, validate the whole resulting file, write it
    atomically. Unknown keys already in the file are preserved. Raises :class:`ConfigError` (nothing written)."""
    path = resolve_path(path)
    try:
        section, f = _field(key)
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


def format_value(value: Any) -> str:
    """How ``snaplark config get`` prints a value (TOML spelling for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dumps(settings: Settings) -> str:
    """TOML text of every setting (``snaplark config show``)."""
    return tomli_w.dumps(settings.to_dict())
