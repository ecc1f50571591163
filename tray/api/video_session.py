"""What ``/videos/init`` answered, and the extension fields a client reads from it."""

from __future__ import annotations

import dataclasses
import logging
from urllib.parse import urlsplit

from tray.api.errors import NotSnaplarkServer

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class VideoSession:
    """What ``/videos/init`` answered. ``min_part_size``/``max_parts`` are None when the server did not say;
    ``direct_parts``: the server takes parts straight to its storage (``directParts: true``)."""
    session_id: str
    min_part_size: int | None = None
    max_parts: int | None = None
    direct_parts: bool = False


@dataclasses.dataclass(frozen=True)
class PartTarget:
    """Where to PUT one part straight to storage (``POST /videos/{id}/parts/{index}/url``): a presigned URL and the
    headers that must go with it (Content-MD5: the storage checks the bytes)."""
    url: str
    headers: dict[str, str]
    expires_in: float | None = None

    @classmethod
    def from_answer(cls, body: dict, where: str) -> "PartTarget":
        url, headers = body.get("url"), body.get("headers") or {}
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise NotSnaplarkServer(f"{where} answered without an http(s) 'url'", body=body)
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in headers.items()):
            raise NotSnaplarkServer(f"{where} answered 'headers' that are not names and text values", body=body)
        if body.get("method", "PUT") != "PUT":
            raise NotSnaplarkServer(f"{where} asked for method {body.get('method')!r}; only PUT is known", body=body)
        expires = body.get("expiresIn")
        return cls(url, dict(headers), float(expires) if isinstance(expires, (int, float)) else None)


def optional_count(body: dict, key: str, least: int) -> int | None:
    """An optional integer extension field; a malformed one is ignored (the seed's defaults apply)."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        log.warning("ignoring the server's %s=%r: not an integer >= %d", key, value, least)
        return None
    return value
