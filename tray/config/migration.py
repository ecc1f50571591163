"""Schema versions of the settings file and the migrations that bring an older file up to the current one.

* v1 (tray 0.0.x) was flat: ``server_url``, ``embedded_port``, ``fps``, ``bitrate``, ``show_cursor``,
  ``countdown``, ``auto_upload``, ``keep_local_copy``, ``save_dir``, ``notifications``, ``hotkey_region``,
  ``hotkey_screen``, ``hotkey_record``, ``hotkey_stop``; it had no ``schema_version`` key (or ``schema_version = 1``).
* v2 (current, :data:`tray.config.schema.SCHEMA_VERSION`) groups settings in the sections ``server``, ``hotkeys``,
  ``capture``, ``upload``, ``notifications`` and stores ``schema_version = 2``.

:func:`migrate` works on raw TOML data only (no validation, no file access): :func:`tray.config.store.load_config`
validates the result and rewrites the file. Pure functions, thread-safe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from tray.config.schema import SCHEMA_VERSION
from tray.config.validation import NO_VALUE, ConfigError, is_int

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
    version = data.get("schema_version", NO_VALUE)
    if version is NO_VALUE:
        # No version key: a v1 file if it uses any flat v1 key; otherwise a hand-written current file.
        return 1 if any(k in V1_KEYS and not isinstance(data[k], dict) for k in data) else SCHEMA_VERSION
    if not is_int(version) or version < 1:
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
