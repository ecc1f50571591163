"""What an upload request must look like: field rules of init / chunk / finalize, container signatures, the
names and types a stored file gets. Pure functions over request bodies (no database, no storage); `uploads.py`
applies them.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

from . import retention
from .errors import ApiError, invalid

SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK_INDEX_RE = re.compile(r"^[0-9]{1,9}$")
RESOLUTION_RE = re.compile(r"^[0-9]{1,5}x[0-9]{1,5}$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
GIF_MAGICS = (b"GIF87a", b"GIF89a")  # snaplark record --format gif uploads through the screenshot path
VIDEO_CONTENT_TYPE = "video/webm"
# the container the client names in init (its filename's extension) is the one stored and served, with its type
VIDEO_CONTAINERS = {".webm": "video/webm", ".mp4": "video/mp4", ".mkv": "video/x-matroska"}
CODEC_CONTAINERS = {"h264": ".mp4", "avc1": ".mp4", "hevc": ".mp4", "h265": ".mp4", "av1": ".webm", "vp9": ".webm",
                    "vp8": ".webm"}


HEAD_BYTES = 16  # kept per part (parts.head) for the container check at finalize
EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # WebM and Matroska files start with an EBML header
# the signature each stored container must start with: (description, test on the file's first bytes)
CONTAINER_SIGNATURES = {".webm": ("WebM (EBML header 1A 45 DF A3)", lambda h: h.startswith(EBML_MAGIC)),
                        ".mkv": ("Matroska (EBML header 1A 45 DF A3)", lambda h: h.startswith(EBML_MAGIC)),
                        ".mp4": ("MP4 ('ftyp' box at offset 4)", lambda h: h[4:8] == b"ftyp")}


def describe_head(head: bytes) -> str:
    """What a file that starts with ``head`` looks like, for an error message."""
    if head.startswith(EBML_MAGIC):
        return "an EBML header (WebM/Matroska)"
    if head[4:8] == b"ftyp":
        return f"an MP4/QuickTime 'ftyp' box (brand {head[8:12].decode('ascii', 'replace')!r})"
    for magic, name in ((PNG_MAGIC, "a PNG image"), (JPEG_MAGIC, "a JPEG image"), (b"RIFF", "a RIFF file (AVI/WAV)"),
                        (b"OggS", "an Ogg file"), (b"GIF8", "a GIF image"), (b"%PDF", "a PDF document"),
                        (b"PK\x03\x04", "a ZIP archive")):
        if head.startswith(magic):
            return name
    return "the bytes " + " ".join(f"{b:02X}" for b in head[:8]) if head else "nothing"


def check_container(head: bytes | None, ext: str) -> None:
    """422 ``invalid_container`` unless part 0 starts with the signature of the container the session declared.
    ``head`` None: a part stored before the server kept heads (no check)."""
    if head is None or ext not in CONTAINER_SIGNATURES:
        return
    name, matches = CONTAINER_SIGNATURES[ext]
    if not matches(bytes(head)):
        raise ApiError(422, "invalid_container",
                       f"the video is not {name}: its first part starts with {describe_head(bytes(head))}",
                       expected=ext.lstrip("."), found=describe_head(bytes(head)))


def video_container(metadata: dict[str, Any]) -> tuple[str, str]:
    """``(extension, content type)`` from the init filename's extension, else from the codec; WebM by default."""
    name = str(metadata.get("filename") or "")
    ext = "." + name.rsplit(".", 1)[1].lower() if "." in name else ""
    if ext not in VIDEO_CONTAINERS:
        ext = CODEC_CONTAINERS.get(str(metadata.get("codec") or "").lower(), ".webm")
    return ext, VIDEO_CONTAINERS[ext]

INIT_FIELDS = ("filename", "timestamp", "fps", "codec", "bitrate", "resolution")
INIT_OPTIONAL = (retention.FIELD,)  # extension: expiresIn (seconds), checked against the config in init_session
FINALIZE_REQUIRED = ("sessionId", "totalChunks", "uploadedChunks")
FINALIZE_OPTIONAL = ("duration", "metadata", "sha256", retention.FIELD)
CHUNK_REQUIRED = ("sessionId", "chunkIndex")
CHUNK_OPTIONAL = ("sha256",)


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_keys(body: dict, required: tuple, optional: tuple = ()) -> None:
    missing = [k for k in required if k not in body]
    if missing:
        raise invalid(f"missing field(s): {', '.join(missing)}")
    extra = sorted(k for k in body if k not in required and k not in optional)
    if extra:
        raise invalid(f"unknown field(s): {', '.join(repr(k)[:40] for k in extra[:5])}")


def _short_text(body: dict, key: str, max_len: int) -> str:
    v = body[key]
    if not isinstance(v, str) or not v or len(v) > max_len or not v.isprintable():
        raise invalid(f"{key}: expected a non-empty printable string of at most {max_len} characters")
    return v


def validate_init(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("expected a JSON object")
    _check_keys(body, INIT_FIELDS, INIT_OPTIONAL)
    _short_text(body, "filename", 255)
    _short_text(body, "codec", 64)
    res = _short_text(body, "resolution", 11)
    if not RESOLUTION_RE.match(res):
        raise invalid("resolution: expected WIDTHxHEIGHT")
    if not _is_number(body["timestamp"]) or body["timestamp"] < 0:
        raise invalid("timestamp: expected a non-negative number")
    if not _is_number(body["fps"]) or not (0 < body["fps"] <= 1000):
        raise invalid("fps: expected a number in (0, 1000]")
    if not _is_int(body["bitrate"]) or not (0 <= body["bitrate"] <= 10**12):
        raise invalid("bitrate: expected a non-negative integer")
    return {k: body[k] for k in INIT_FIELDS + INIT_OPTIONAL if k in body}


def parse_chunk_index(raw: str, max_parts: int) -> int:
    if not CHUNK_INDEX_RE.match(raw):
        raise invalid("chunkIndex: expected a non-negative decimal integer")
    index = int(raw)
    if index >= max_parts:
        raise invalid(f"chunkIndex: must be below {max_parts}")
    return index
