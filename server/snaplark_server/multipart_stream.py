"""Streaming multipart/form-data parsing straight into a spool file.

The request body is consumed chunk by chunk from the ASGI stream; the one file field is written to a temporary
file in the spool directory while its sha256 and md5 are computed, so a part is never held in memory whole.
Text fields are small and kept in memory (bounded). Limits raise `ApiError` (413 / 422 / 415).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from .errors import ApiError, invalid, too_large
from .private_files import create_private_file, make_private_dir

MAX_TEXT_FIELD = 64 * 1024
MAX_FIELDS = 32
MULTIPART_OVERHEAD = 64 * 1024
FLUSH_BYTES = 1024 * 1024  # file bytes handed to a worker thread at a time (hash + write off the event loop)  # allowance for boundaries, headers and text fields on top of the file size


@dataclass
class SpooledFile:
    """The file field of a form, already on disk (not yet fsynced), with its digests."""

    path: Path
    size: int
    sha256: str
    md5: bytes  # empty unless the storage asked for it (S3 Content-MD5)
    filename: str | None
    content_type: str | None
    head: bytes  # first bytes, for magic-number checks

    def discard(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


@dataclass
class ParsedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: SpooledFile | None = None
    file_field: str | None = None

    def discard(self) -> None:
        if self.file is not None:
            self.file.discard()


def check_content_length(headers, limit: int) -> None:
    raw = headers.get("content-length")
    if raw is None:
        return
    try:
        length = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", "invalid Content-Length header") from None
    if length > limit:
        raise too_large(f"request body of {length} bytes exceeds the limit of {limit} bytes")


def multipart_boundary(content_type: str | None) -> bytes:
    ctype, params = parse_options_header(content_type or "")
    if ctype != b"multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "expected multipart/form-data")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise invalid("multipart/form-data without a valid boundary")
    return boundary


async def parse_form(
    stream: AsyncIterator[bytes],
    content_type: str | None,
    *,
    file_field: str,
    spool_dir: Path,
    max_file_size: int,
    max_body: int,
    want_md5: bool = False,
) -> ParsedForm:
    """Parse a multipart body; the field named ``file_field`` goes to a spool file. Raises `ApiError`."""
    boundary = multipart_boundary(content_type)
    form = ParsedForm()
    state: dict = {"headers": {}, "hname": b"", "hvalue": b"", "name": None, "buf": None, "fh": None,
                   "size": 0, "sha": None, "md5": None, "head": b"", "count": 0, "seen_file": False,
                   "pending": 0, "file_done": False, "in_file": False}
    pending: list[memoryview] = []

    def on_part_begin() -> None:
        state["headers"] = {}
        state["name"] = None
        state["count"] += 1
        if state["count"] > MAX_FIELDS:
            raise _Stop(invalid("too many form fields"))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["hname"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["hvalue"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["hname"].lower()] = state["hvalue"]
        state["hname"] = b""
        state["hvalue"] = b""

    def on_headers_finished() -> None:
        disp, params = parse_options_header(state["headers"].get(b"content-disposition", b""))
        if disp != b"form-data" or b"name" not in params:
            raise _Stop(invalid("multipart part without a form-data name"))
        try:
            name = params[b"name"].decode("utf-8")
        except UnicodeDecodeError:
            raise _Stop(invalid("form field name is not UTF-8")) from None
        state["name"] = name
        if name == file_field:
            if state["seen_file"]:
                raise _Stop(invalid(f"field {file_field!r} given more than once"))
            state["seen_file"] = True
            make_private_dir(spool_dir)
            path = spool_dir / f"{secrets.token_hex(12)}.tmp"
            state["fh"] = create_private_file(path)  # 0600: it becomes the stored part or object
            state["in_file"] = True
            raw_filename = params.get(b"filename")
            ctype = state["headers"].get(b"content-type")
            form.file = SpooledFile(
                path=path, size=0, sha256="", md5=b"",
                filename=raw_filename.decode("utf-8", "replace") if raw_filename is not None else None,
                content_type=ctype.decode("latin-1") if ctype else None, head=b"",
            )
            form.file_field = name
            state["sha"] = hashlib.sha256()
            state["md5"] = hashlib.md5() if want_md5 else None
            state["size"] = 0
            state["head"] = b""
        else:
            state["buf"] = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["in_file"]:
            n = end - start
            state["size"] += n
            if state["size"] > max_file_size:
                raise _Stop(too_large(f"{file_field!r} exceeds the limit of {max_file_size} bytes"))
            # a view, not a copy: safe because ``data`` is immutable bytes (the request chunk or the boundary)
            view = memoryview(data if isinstance(data, bytes) else bytes(data))[start:end]
            if len(state["head"]) < 64:
                state["head"] += bytes(view[: 64 - len(state["head"])])
            pending.append(view)
            state["pending"] += n
        else:
            buf = state["buf"]
            buf += data[start:end]
            if len(buf) > MAX_TEXT_FIELD:
                raise _Stop(too_large(f"form field {state['name']!r} is too long"))

    def on_part_end() -> None:
        name = state["name"]
        if state["in_file"]:
            state["in_file"] = False
            state["file_done"] = True  # closed by the async loop below after the last flush
        elif name is not None:
            try:
                value = bytes(state["buf"]).decode("utf-8")
            except UnicodeDecodeError:
                raise _Stop(invalid(f"form field {name!r} is not UTF-8")) from None
            if name in form.fields:
                raise _Stop(invalid(f"field {name!r} given more than once"))
            form.fields[name] = value
        state["buf"] = None
        state["name"] = None

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )

    async def flush() -> None:
        """Hash and write the pending slices of the file field in a worker thread (the loop keeps parsing)."""
        views = pending[:]
        pending.clear()
        state["pending"] = 0
        if views:
            await run_in_threadpool(_write_and_hash, state["fh"], state["sha"], state["md5"], views)
        if state["file_done"]:
            state["file_done"] = False
            state["fh"].close()
            state["fh"] = None
            f = form.file
            f.size = state["size"]
            f.sha256 = state["sha"].hexdigest()
            f.md5 = state["md5"].digest() if state["md5"] is not None else b""
            f.head = state["head"]

    received = 0
    try:
        async for chunk in stream:
            received += len(chunk)
            if received > max_body:
                raise _Stop(too_large(f"request body exceeds the limit of {max_body} bytes"))
            if chunk:
                parser.write(chunk)
                if state["file_done"] or state["pending"] >= FLUSH_BYTES:
                    await flush()
        parser.finalize()
        if state["file_done"] or pending:
            await flush()
        if state["in_file"] or state["name"] is not None:
            raise _Stop(invalid("truncated multipart body"))
        if state["count"] == 0:
            raise _Stop(invalid("empty multipart body"))
    except _Stop as stop:
        _cleanup(state, form)
        raise stop.error from None
    except ApiError:
        _cleanup(state, form)
        raise
    except Exception as exc:  # python-multipart raises its own errors on malformed input
        _cleanup(state, form)
        if isinstance(exc, OSError):
            raise
        raise invalid(f"malformed multipart body: {type(exc).__name__}") from None
    except BaseException:
        _cleanup(state, form)
        raise
    return form


def _write_and_hash(fh, sha, md5, views: list[memoryview]) -> None:
    for view in views:
        fh.write(view)
        sha.update(view)
        if md5 is not None:
            md5.update(view)


class _Stop(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def _cleanup(state: dict, form: ParsedForm) -> None:
    fh = state.get("fh")
    if fh is not None:
        try:
            fh.close()
        except OSError:
            pass
        state["fh"] = None
    form.discard()
