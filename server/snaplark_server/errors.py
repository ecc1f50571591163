"""API errors: every error answer is JSON ``{"error": "<code>", "message": "<text>", ...extra}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


class DatabaseUnavailable(Exception):
    """The metadata database cannot be reached in time (PostgreSQL down or restarting, no pooled connection within
    ``database_timeout``): answered 503 with Retry-After, like an unavailable storage; nothing was acknowledged."""


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})


def session_not_found() -> ApiError:
    return ApiError(404, "session_not_found", "upload session not found or expired")


def invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)


def too_large(message: str) -> ApiError:
    return ApiError(413, "too_large", message)
