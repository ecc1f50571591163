"""Which local files can be uploaded, and the seed's ``/videos/init`` metadata for them."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any, Callable

from tray.upload.cutter import LocalFileError

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = {".webm": ("vp9", "video/webm"), ".mp4": ("h264", "video/mp4"), ".mkv": ("vp9", "video/x-matroska")}
IMAGE_EXTENSIONS = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
INIT_FIELDS = ("filename", "timestamp", "fps", "codec", "bitrate", "resolution")
_RESOLUTION = re.compile(r"^[0-9]{1,5}x[0-9]{1,5}$")


def seed_init_metadata(path: Path, metadata: dict[str, Any] | None, now_ms: int) -> dict[str, Any]:
    """Session metadata: everything given, with the seed's ``/videos/init`` fields present and well-typed."""
    codec, _ = VIDEO_EXTENSIONS.get(path.suffix.lower(), ("vp9", "video/webm"))
    out: dict[str, Any] = {"filename": path.name, "timestamp": now_ms, "fps": 30, "codec": codec,
                           "bitrate": 2_500_000, "resolution": "1920x1080"}
    defaults = dict(out)
    out.update(metadata or {})
    checks: dict[str, Callable[[Any], Any]] = {
        "filename": lambda v: str(v)[:255] if str(v).isprintable() and str(v) else None,
        "codec": lambda v: str(v)[:64] if str(v).isprintable() and str(v) else None,
        "timestamp": lambda v: int(v) if float(v) >= 0 else None,
        "fps": lambda v: (int(v) if float(v).is_integer() else float(v)) if 0 < float(v) <= 1000 else None,
        "bitrate": lambda v: int(v) if int(v) >= 0 else None,
        "resolution": lambda v: str(v) if _RESOLUTION.match(str(v)) else None,
    }
    for key, check in checks.items():
        try:
            value = check(out[key])
        except (TypeError, ValueError, OverflowError):
            value = None
        if value is None:
            log.warning("upload metadata %s=%r is not valid for /videos/init; using %r", key, out[key], defaults[key])
            value = defaults[key]
        out[key] = value
    return out


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError as exc:
        raise LocalFileError(f"{path}: the file disappeared before it was uploaded") from exc
    except OSError as exc:
        raise LocalFileError(f"{path}: {exc.strerror or exc}") from exc


def range_sha256(path: Path, length: int, block: int = 1 << 20) -> str:
    import hashlib

    h = hashlib.sha256()
    remaining = length
    try:
        with open(path, "rb") as f:
            while remaining > 0:
                buf = f.read(min(block, remaining))
                if not buf:
                    raise LocalFileError(f"{path}: the file shrank while it was being uploaded")
                h.update(buf)
                remaining -= len(buf)
    except OSError as exc:
        raise LocalFileError(f"{path}: {exc}") from exc
    return h.hexdigest()


def check_uploadable(path: Path) -> None:
    """Clear errors for the usual bad inputs (before anything is journaled)."""
    if not path.exists():
        raise LocalFileError(f"{path}: no such file")
    if path.is_dir():
        raise LocalFileError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise LocalFileError(f"{path}: permission denied (the file is not readable)")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise LocalFileError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if path.stat().st_size == 0:
        raise LocalFileError(f"{path}: the file is empty, there is nothing to upload")
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS and suffix not in VIDEO_EXTENSIONS:
        raise LocalFileError(f"{path}: unsupported file type {suffix or '(none)'}; Snaplark uploads "
                             f"PNG/JPEG screenshots and WebM/MP4 recordings")
