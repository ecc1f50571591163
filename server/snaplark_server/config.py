"""Typed configuration of the reference server.

`ServerConfig` is a plain dataclass. `load_config_file()` reads a TOML file into one; a config file can never
turn on fault injection (that is only possible from Python code or the explicit CLI test flag).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MiB = 1024 * 1024
S3_MIN_PART_SIZE = 5 * MiB
LOCAL_MIN_PART_SIZE = 64 * 1024

CONFIG_SCHEMA_VERSION = 1


def default_data_dir() -> Path:
    """$SNAPLARK_SERVER_DATA_DIR, else the platform's user data dir for "snaplark-server"."""
    env = os.environ.get("SNAPLARK_SERVER_DATA_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("snaplark-server"))


class ConfigError(ValueError):
    """A config file or value is invalid; the message names the key and the file."""


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765  # 0 = ephemeral
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    storage: str = "local"  # "local" | "s3"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_prefix: str = ""
    s3_max_attempts: int = 4  # boto3 attempts per S3 call before the API answers 503
    # parts straight to storage (direct_parts.py, S3 only): clients PUT parts to presigned UploadPart URLs valid
    # this many seconds, signed for s3_presign_endpoint_url (the S3 address clients reach; default s3_endpoint_url)
    direct_parts: bool = True
    direct_part_url_expiry: int = 300
    s3_presign_endpoint_url: str | None = None
    public_base_url: str | None = None  # where stored objects are public (S3 bucket / CDN): raw-file links
    # links.py: the server's own public address for every link it returns (pages, posters, oEmbed, raw files when
    # public_base_url is not set) ...
    site_url: str | None = None
    # ... and raw files (/v/<id>.webm, /s/<id>.png, posters) are linked from this separate origin when set (e.g.
    # https://usercontent.example.com, a second name for this server): a file can never run in the pages' origin.
    # Pages asked for on it answer 404; files asked for on the site's origin are redirected to it (links.py)
    user_content_base_url: str | None = None
    # ... else the request's Host when it is one of these (name, name:port, *.domain); None = the bind address,
    # localhost and 127.0.0.1. Any other Host gets links to the first of them, never to itself.
    allowed_hosts: list[str] | None = None
    max_part_size: int = 64 * MiB
    # every part but the last must be at least this big; said in the init answer (minPartSize). Local storage has
    # no minimum of its own: 64 KiB lets a client send a live recording about once a second. S3 forces 5 MiB.
    min_part_size: int = LOCAL_MIN_PART_SIZE
    max_parts: int = 10_000
    max_screenshot_size: int = 50 * MiB
    max_image_pixels: int = 100_000_000  # width x height of a screenshot; more -> 422 (a small PNG can be huge)
    session_idle_expiry: float = 86_400.0
    # retention.py: seconds an upload lives when it does not say (expiresIn); 0 = until deleted. No upload may ask
    # for more than max_expiry (0 = no limit); with only max_expiry set, uploads that do not say get max_expiry
    default_expiry: float = 0.0
    max_expiry: float = 0.0
    min_free_bytes: int = 100 * MiB  # free-space reserve of the data dir: writes that would eat into it -> 503
    cleanup_interval: float = 60.0
    # connection hygiene (connection_guard.py): what a client without a token can hold or spend
    header_timeout: float = 10.0  # seconds to send a complete request head (from connect or the previous answer)
    max_header_size: int = 32 * 1024  # bytes of request line + headers; more -> 431 and close
    body_timeout: float = 20.0  # no body byte for this long -> 408 and close; also the body_min_rate window
    body_min_rate: int = 1024  # bytes/s a request body must average over each body_timeout window (0 = none)
    max_connections: int = 1000  # open connections; also capped by the fd limit (RLIMIT_NOFILE minus a reserve)
    log_flood_interval: float = 10.0  # a repeated warning (failed accept(), bad request) at most once per this
    # per-user limits (quotas.py); 0 = no limit. Over one -> 429 with Retry-After
    user_max_open_sessions: int = 100  # video upload sessions open at once
    user_max_bytes_stored: int = 0  # screenshots + videos + parts of open sessions
    user_max_bytes_per_day: int = 0  # bytes stored per UTC day
    user_requests_per_second: float = 0.0  # token bucket: refill rate ...
    user_request_burst: int = 50  # ... and size (requests a user may send at once)
    # observability (observability.py, metrics.py, audit.py)
    access_log: str = "-"  # "-" = stderr, "off", or a file (relative: in the data dir)
    access_log_json: bool = False  # one JSON object per line instead of the plain text line
    metrics_public: bool = False  # /metrics without a token (else any valid user token)
    # metadata (databases.py): SQLite in the data dir by default; "postgresql://user:pass@host/db" for several
    # instances on one database (pg.py). Local storage with PostgreSQL needs a data dir every instance mounts.
    database_url: str | None = None
    database_pool_size: int = 10  # connections per instance (PostgreSQL)
    database_timeout: float = 10.0  # seconds to wait for a database connection; then 503 database_unavailable
    database_upgrade_at_start: bool = True  # apply missing schema migrations at start (else: snaplark-server db upgrade)
    shared_data_dir: bool = False  # the data dir is the same directory on every instance (NFS, CephFS, ...)
    fault_injection: bool = False

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if self.database_url is not None:
            if not isinstance(self.database_url, str) or not re.match(r"^postgres(ql)?://", self.database_url):
                raise ConfigError("database_url: expected postgresql://user:password@host[:port]/database "
                                  "(leave it out for SQLite in the data dir)")
        if self.database_pool_size < 1:
            raise ConfigError(f"database_pool_size: must be at least 1, got {self.database_pool_size!r}")
        if not float(self.database_timeout) > 0:
            raise ConfigError(f"database_timeout: must be a positive number of seconds, got {self.database_timeout!r}")
        if self.storage not in ("local", "s3"):
            raise ConfigError(f"storage: must be 'local' or 's3', got {self.storage!r}")
        if self.storage == "s3" and not self.s3_bucket:
            raise ConfigError("s3_bucket: required when storage = 's3'")
        if not (1 <= int(self.direct_part_url_expiry) <= 604800):  # S3's own limit for a presigned URL: 7 days
            raise ConfigError(f"direct_part_url_expiry: expected seconds in [1, 604800], "
                              f"got {self.direct_part_url_expiry!r}")
        if not (0 <= int(self.port) <= 65535):
            raise ConfigError(f"port: out of range: {self.port!r}")
        if self.max_part_size <= 0 or self.max_parts <= 0 or self.max_screenshot_size <= 0 \
                or self.max_image_pixels <= 0:
            raise ConfigError("max_part_size, max_parts, max_screenshot_size, max_image_pixels must be positive")
        if self.min_free_bytes < 0:
            raise ConfigError(f"min_free_bytes: must not be negative, got {self.min_free_bytes!r}")
        if self.min_part_size < 0:
            raise ConfigError("min_part_size: must not be negative")
        for key in ("header_timeout", "body_timeout", "log_flood_interval"):
            if not float(getattr(self, key)) > 0:
                raise ConfigError(f"{key}: must be a positive number of seconds, got {getattr(self, key)!r}")
        for key in ("default_expiry", "max_expiry"):
            if not float(getattr(self, key)) >= 0:
                raise ConfigError(f"{key}: must be a number of seconds, 0 = never, got {getattr(self, key)!r}")
        if self.max_expiry and self.default_expiry > self.max_expiry:
            raise ConfigError(f"default_expiry ({self.default_expiry:g} s) is longer than max_expiry "
                              f"({self.max_expiry:g} s)")
        if self.max_header_size < 1024:
            raise ConfigError(f"max_header_size: must be at least 1024 bytes, got {self.max_header_size!r}")
        if self.body_min_rate < 0:
            raise ConfigError(f"body_min_rate: must not be negative, got {self.body_min_rate!r}")
        if self.max_connections < 1:
            raise ConfigError(f"max_connections: must be at least 1, got {self.max_connections!r}")
        for key in ("user_max_open_sessions", "user_max_bytes_stored", "user_max_bytes_per_day"):
            if int(getattr(self, key)) < 0:
                raise ConfigError(f"{key}: must not be negative (0 = no limit), got {getattr(self, key)!r}")
        if not float(self.user_requests_per_second) >= 0:
            raise ConfigError(f"user_requests_per_second: must not be negative (0 = no limit), "
                              f"got {self.user_requests_per_second!r}")
        if self.user_request_burst < 1:
            raise ConfigError(f"user_request_burst: must be at least 1, got {self.user_request_burst!r}")
        if not isinstance(self.access_log, str):
            raise ConfigError(f"access_log: expected '-' (stderr), 'off' or a file path, got {self.access_log!r}")
        if self.storage == "s3":  # S3 refuses CompleteMultipartUpload with smaller non-final parts
            self.min_part_size = max(self.min_part_size, S3_MIN_PART_SIZE)
        if self.public_base_url:
            self.public_base_url = self.public_base_url.rstrip("/")
        if self.user_content_base_url:
            if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", self.user_content_base_url):
                raise ConfigError(f"user_content_base_url: expected http(s)://host[:port][/path], got "
                                  f"{self.user_content_base_url!r}")
            self.user_content_base_url = self.user_content_base_url.rstrip("/")
        if self.site_url:
            if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", self.site_url):
                raise ConfigError(f"site_url: expected http(s)://host[:port][/path], got {self.site_url!r}")
            self.site_url = self.site_url.rstrip("/")
        if self.allowed_hosts is not None:
            from .links import parse_host

            if isinstance(self.allowed_hosts, str) or not all(isinstance(h, str) for h in self.allowed_hosts):
                raise ConfigError(f"allowed_hosts: expected a list of host names, got {self.allowed_hosts!r}")
            bad = [h for h in self.allowed_hosts if parse_host(h[2:] if h.startswith("*.") else h) is None]
            if bad:
                raise ConfigError(f"allowed_hosts: not a host name or host:port: {bad[0]!r}")
            self.allowed_hosts = list(self.allowed_hosts)
        if self.s3_prefix and not self.s3_prefix.endswith("/"):
            self.s3_prefix += "/"

    def check_shared_storage(self) -> None:
        """Before serving: PostgreSQL means other instances may serve this database's uploads, so the bytes must be
        where they can read them too (S3, or a data dir declared shared). Admin commands need no such check."""
        if self.database_url and self.storage == "local" and not self.shared_data_dir:
            raise ConfigError(
                "database_url: storage = 'local' keeps the uploaded bytes in this instance's data dir, which "
                "other instances on the same PostgreSQL database cannot read; use storage = 's3', or set "
                f"shared_data_dir = true if {self.data_dir} is the same shared directory on every instance")

    def effective_allowed_hosts(self) -> list[str]:
        """``allowed_hosts``, or by default the bind address, localhost and 127.0.0.1."""
        if self.allowed_hosts is not None:
            return list(self.allowed_hosts)
        bind = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return list(dict.fromkeys([bind, "localhost", "127.0.0.1"]))


_FILE_KEYS = {f.name for f in dataclasses.fields(ServerConfig)} - {"fault_injection"}


def load_config_file(path: Path | str, **overrides: Any) -> ServerConfig:
    """Read a TOML config file (top-level keys or a ``[server]`` table) into a `ServerConfig`.

    ``fault_injection`` in a file is rejected: it can only be enabled from code or by the explicit
    ``--enable-fault-injection-for-tests`` command line flag.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    table = raw.get("server", raw) if isinstance(raw.get("server"), dict) else raw
    if "fault_injection" in raw or "fault_injection" in table:
        raise ConfigError(f"{path}: key 'fault_injection' cannot be set from a config file")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "fault_injection":
            raise ConfigError(f"{path}: key 'fault_injection' cannot be set from a config file")
        if key in ("schema_version", "server"):
            continue
        if key not in _FILE_KEYS:
            log.warning("%s: unknown config key %r ignored", path, key)
            continue
        values[key] = value
        expected = _FIELD_TYPES[key]
        if not _type_ok(value, expected):
            raise ConfigError(f"{path}: key {key!r}: expected {expected}, got {type(value).__name__}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ServerConfig(**values)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(ServerConfig)}


def _type_ok(value: Any, expected: str) -> bool:
    if isinstance(value, bool):
        return expected == "bool"
    if expected == "int":
        return isinstance(value, int)
    if expected == "float":
        return isinstance(value, (int, float))
    if expected == "Path":
        return isinstance(value, str)
    if expected.startswith("list"):
        return isinstance(value, list) or (value is None and "None" in expected)
    if expected.startswith("str"):
        return isinstance(value, str) or (value is None and "None" in expected)
    return True
