"""Logging for the tray app and the CLI.

:func:`setup_logging` installs, on the root logger, a rotating file handler in the log dir (DEBUG and up) and a
stderr handler (INFO, or DEBUG with ``-v``), both with the thread name in the format and both filtered through a
:class:`SecretRedactor`: tokens are never logged on purpose, and the redactor is the second line of defence
(``Bearer <anything>``, ``token=...`` style fields and every string passed to :func:`register_secret`).

Threading: logging handlers are thread-safe; :class:`SecretRegistry` guards its set with a lock, so
:func:`register_secret` may be called from any thread.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import threading
from pathlib import Path

from tray import paths

LOG_FORMAT = "%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"
LOG_FILENAME = "snaplark.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 5
REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 6  # shorter strings would redact ordinary words

_BEARER_RE = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]+=*")
_FIELD_RE = re.compile(
    r"(?i)((?:access_?|api_?|auth_?|bearer_?|refresh_?)?token|password|secret|authorization)"
    r"""(=|["']\s*:\s*["'])(?!\[REDACTED\]|bearer\s)([^\s"',&;}]+)""")


class SecretRegistry:
    """Strings that must never appear in a log record (tokens read from the keyring, typed at login, ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            with self._lock:
                self._secrets.add(secret)

    def discard(self, secret: str | None) -> None:
        with self._lock:
            self._secrets.discard(secret or "")

    def snapshot(self) -> list[str]:
        with self._lock:
            return sorted(self._secrets, key=len, reverse=True)  # longest first: no partial leftovers


_REGISTRY = SecretRegistry()


def register_secret(secret: str | None) -> None:
    """Redact ``secret`` from every log record from now on (process-wide)."""
    _REGISTRY.add(secret)


def redact(text: str, registry: SecretRegistry | None = None) -> str:
    """``text`` with bearer tokens, ``token=...``-style values and registered secrets replaced by [REDACTED]."""
    for secret in (registry or _REGISTRY).snapshot():
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _BEARER_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _FIELD_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return text


class SecretRedactor(logging.Filter):
    """Rewrites each record's message (and its formatted traceback) with :func:`redact`. Attach to handlers,
    not loggers, so records propagated from every logger pass through it."""

    def __init__(self, registry: SecretRegistry | None = None) -> None:
        super().__init__()
        self._registry = registry
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: let the handler report it as usual
            return True
        record.msg = redact(message, self._registry)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._registry)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._registry)
        return True


TERMINAL_FORMAT = "snaplark: %(levelname)s: %(message)s"


def setup_logging(verbose: bool = False, log_dir: Path | str | None = None) -> Path | None:
    """Configure the root logger; safe to call again (replaces the handlers it installed before).

    Returns the log file path, or None when the log dir cannot be written (then only stderr is used)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_snaplark", False):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter(LOG_FORMAT)
    redactor = SecretRedactor()

    stderr = logging.StreamHandler(sys.stderr)
    # the terminal gets warnings and errors as plain sentences; timestamps, threads and INFO/DEBUG only with -v
    stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr.setFormatter(formatter if verbose else logging.Formatter(TERMINAL_FORMAT))
    stderr.addFilter(redactor)
    stderr._snaplark = True  # type: ignore[attr-defined]
    root.addHandler(stderr)

    directory = Path(log_dir) if log_dir is not None else paths.log_dir()
    log_file: Path | None = directory / LOG_FILENAME
    try:
        paths.ensure_private_dir(directory)
        file_handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                                            encoding="utf-8")
        paths.make_private_file(log_file)  # rotated files are new files: the process umask makes them 0600
    except OSError as exc:
        log_file = None
        root.setLevel(logging.DEBUG)
        logging.getLogger(__name__).warning("cannot write logs to %s: %s (logging to stderr only)", directory, exc)
    else:
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(formatter)
        file_handler.addFilter(redactor)
        file_handler._snaplark = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)
    root.setLevel(logging.DEBUG)
    # Chatty libraries: keep their debug output out of the file unless asked for.
    for name in ("urllib3", "PIL", "asyncio", "multipart", "python_multipart"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
    return log_file
