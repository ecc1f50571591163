"""Error taxonomy of the upload API (``shared/API.md``, "Statuses the client acts on").

Every failure of an :class:`~tray.api.client.ApiClient` call is one of these types, so callers decide by type,
never by poking at a ``requests.Response``:

=====================  =========================================  ==========================================
type                   raised for                                 the caller should
=====================  =========================================  ==========================================
AuthRequired           401                                        keep the journal, ask the user to log in
SessionGone            404/410 on a session                       re-init and replay every part
Incomplete             409 (``missing`` lists the parts)          re-send those parts, finalize again
ChecksumMismatch       422 ``checksum_mismatch``                  re-read the part from disk, re-send
TransientError         408, 429, 5xx (``retry_after`` honoured)   back off and retry
Offline                connection error or timeout                pause, probe ``/health``, resume
PermanentError         any other 4xx                              keep the file, tell the user
NotSnaplarkServer      an answer that is not this API             tell the user the URL is wrong
ExtensionMissing       404/405/501 from an optional extension     do without it (``shared/API.md``)
StorageRefused         a presigned storage URL refused a part     send that part to ``/videos/chunk``
=====================  =========================================  ==========================================
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base of every API failure. ``status`` is None when no HTTP answer arrived."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 body: Any = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body
        self.url = url

    def __str__(self) -> str:
        if self.status is None or f"({self.status}" in self.message or f"{self.status})" in self.message:
            return self.message
        where = f" ({self.status} {self.code})" if self.code else f" ({self.status})"
        return f"{self.message}{where}"


class AuthRequired(ApiError):
    """401: the token is missing, wrong or revoked."""


class SessionGone(ApiError):
    """404/410 for an upload session: it expired or the server forgot it."""


class Incomplete(ApiError):
    """409 at finalize: the server lacks some parts."""

    def __init__(self, message: str, *, missing: list[int] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.missing = list(missing or [])


class ChecksumMismatch(ApiError):
    """422 ``checksum_mismatch``: the bytes the server received do not hash to the sha256 we sent."""


class TransientError(ApiError):
    """Worth retrying with backoff. ``retry_after`` (seconds) comes from a Retry-After header when present."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Offline(TransientError):
    """No HTTP answer at all: connection refused/reset, DNS failure, or a timeout."""


class PermanentError(ApiError):
    """A 4xx that retrying cannot fix (bad request, too large, unsupported type)."""


class NotSnaplarkServer(PermanentError):
    """The URL answered, but not as a Snaplark API (HTML page, unexpected JSON, wrong content type)."""


class StorageRefused(ApiError):
    """A part PUT straight to storage (a presigned URL) was refused (``status``: 403 expired URL, 400 bad digest,
    5xx) or not answered (``status`` None). The part then goes to ``/videos/chunk``; never an error for the user."""


class ExtensionMissing(ApiError):
    """An optional extension endpoint (``/me``, ``/health``, ``/videos/{id}/status``) is not implemented: the server
    speaks only the seed. Callers degrade (``shared/API.md``); it never reaches the user as an error."""
