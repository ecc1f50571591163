"""Where Snaplark keeps its files.

Every function reads the environment at call time (no module-level state), so tests can point the app at
temporary directories by setting ``SNAPLARK_DATA_DIR``, ``SNAPLARK_CONFIG`` and ``SNAPLARK_LOG_DIR``.
The path functions only compute paths; they never create directories. Callers that write create them with
:func:`ensure_private_dir`: everything Snaplark keeps (journal with every link and local path, logs, settings,
captures) is for the user alone, so directories are 0700 and files 0600 (``PRIVATE_UMASK`` for the process).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "snaplark"

ENV_DATA_DIR = "SNAPLARK_DATA_DIR"
ENV_CONFIG = "SNAPLARK_CONFIG"
ENV_LOG_DIR = "SNAPLARK_LOG_DIR"
ENV_CACHE_DIR = "SNAPLARK_CACHE_DIR"

CONFIG_FILENAME = "config.toml"

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077  # what the CLI and the tray app run with: new files 0600, new directories 0700


def ensure_private_dir(path: Path, *, ours: bool = True) -> Path:
    """Create ``path`` (and missing parents) as 0700. ``ours``: a directory only Snaplark uses (data, logs,
    settings, the default captures folder), so one left 0755 by an older version is made 0700 too; a folder the user
    chose (``upload.save_dir``) keeps the mode it has. POSIX modes only; elsewhere the OS's ACLs apply."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if ours and os.name == "posix" and path.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def make_private_file(path: Path) -> None:
    """chmod 0600 an existing file of ours (e.g. one an older version wrote 0644)."""
    if os.name == "posix" and Path(path).stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
        os.chmod(path, PRIVATE_FILE_MODE)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """User data dir (journal, history, embedded server data). ``$SNAPLARK_DATA_DIR`` overrides."""
    override = _env_path(ENV_DATA_DIR)
    if override is not None:
        return override
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    """The TOML settings file. ``$SNAPLARK_CONFIG`` (a file path) overrides."""
    override = _env_path(ENV_CONFIG)
    if override is not None:
        return override
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_FILENAME


def config_dir() -> Path:
    """The directory holding the settings file (follows ``$SNAPLARK_CONFIG`` when set)."""
    return config_file().parent


def log_dir() -> Path:
    """Rotating log files. ``$SNAPLARK_LOG_DIR`` overrides."""
    override = _env_path(ENV_LOG_DIR)
    if override is not None:
        return override
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Files Snaplark can make again (the History window's thumbnails). ``$SNAPLARK_CACHE_DIR`` overrides;
    ``<data dir>/cache`` when ``$SNAPLARK_DATA_DIR`` is set (tests and portable installs)."""
    override = _env_path(ENV_CACHE_DIR)
    if override is not None:
        return override
    if _env_path(ENV_DATA_DIR) is not None:
        return data_dir() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def captures_dir() -> Path:
    """Default place for local copies of screenshots and recordings.

    ``<user pictures dir>/Snaplark`` normally; ``<data dir>/captures`` when ``$SNAPLARK_DATA_DIR`` is set (so tests
    and portable installs never write into the real home). A non-empty ``upload.save_dir`` setting takes precedence;
    that choice is made by the caller.
    """
    if _env_path(ENV_DATA_DIR) is not None:
        return data_dir() / "captures"
    import platformdirs

    return Path(platformdirs.user_pictures_dir()) / "Snaplark"
