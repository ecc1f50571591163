"""Typed Snaplark settings, stored as TOML: ``from tray import config`` gives every public name of the package.

The file lives at :func:`tray.paths.config_file` (``$SNAPLARK_CONFIG`` overrides). A missing file means "all
defaults". Loading is all-or-nothing: every value is validated and all problems are reported as one
:class:`ConfigError` naming the key, the value and the file, so the app never starts with half a config. Unknown keys
are ignored with a warning naming the key and the file. An older file (schema v1, flat) is migrated on load,
validated, then rewritten atomically with the original kept next to it as ``config.toml.v1.bak``.

Where each part lives:

* :mod:`tray.config.schema` -- the sections and :class:`Settings` (schema v2), :func:`settings_from_dict`;
* :mod:`tray.config.validation` -- :class:`ConfigError` and the per-value validators;
* :mod:`tray.config.hotkey_grammar` -- the one hotkey grammar (validation here, registration in ``tray.ui.hotkeys``);
* :mod:`tray.config.migration` -- schema versions and :func:`migrate`;
* :mod:`tray.config.store` -- reading, writing (atomic, 0600), ``config get``/``config set``.

The package imports nothing from ``tray.ui`` (import rule checked by ``tests/unit/test_architecture.py``).

Threading: :class:`Settings` and its sections are frozen dataclasses, safe to share between threads; change a
setting with :func:`dataclasses.replace` or :func:`set_value` and save the new object.
"""

from __future__ import annotations

from tray.config.migration import MIGRATIONS, V1_KEYS, migrate
from tray.config.schema import (
    SCHEMA_VERSION,
    SECTIONS,
    CaptureSettings,
    HotkeySettings,
    NotificationSettings,
    ServerSettings,
    Settings,
    UploadSettings,
    hotkey_clashes,
    setting_field,
    setting_keys,
    settings_from_dict,
)
from tray.config.store import (
    atomic_write_bytes,
    check_hotkey_change,
    dumps,
    format_value,
    get_value,
    load_config,
    parse_value,
    read_raw,
    resolve_path,
    save_config,
    set_value,
    set_values,
)
from tray.config.validation import (
    ConfigError,
    Validator,
    hotkey_problem,
    show_value,
    v_bool,
    v_choice,
    v_hotkey,
    v_int_range,
    v_str,
    v_url,
)

__all__ = [
    "MIGRATIONS", "SCHEMA_VERSION", "SECTIONS", "V1_KEYS",
    "CaptureSettings", "ConfigError", "HotkeySettings", "NotificationSettings", "ServerSettings", "Settings",
    "UploadSettings", "Validator",
    "atomic_write_bytes", "check_hotkey_change", "dumps", "format_value", "get_value", "hotkey_clashes",
    "hotkey_problem", "load_config", "migrate", "parse_value", "read_raw", "resolve_path", "save_config",
    "set_value", "set_values", "setting_field", "setting_keys", "settings_from_dict", "show_value", "v_bool",
    "v_choice", "v_hotkey", "v_int_range", "v_str", "v_url",
]
