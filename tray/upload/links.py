"""The links a finished upload has: the file itself (``url``, the seed's answer) and, from a server with share
pages, the page that plays or shows it (``pageUrl``, an extension). Which one the user gets -- the tray's Copy
link, notifications, the CLI's output, the history -- is the ``upload.copy`` setting: ``"page"`` (the default) gives
the page when the server has one, else the file; ``"file"`` always the file. A seed-only server has no pageUrl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

COPY_CHOICES = ("page", "file")


@dataclass(frozen=True)
class UploadLinks:
    url: str  # the file (seed contract)
    page_url: str | None = None  # the share page (extension)
    expires_at: str | None = None  # when the server deletes it (extension expiresAt, ISO 8601 UTC), else None

    @classmethod
    def from_answer(cls, body: dict[str, Any]) -> "UploadLinks":
        """From a finalize or screenshot answer; a ``pageUrl`` / ``expiresAt`` that is not a non-empty string is
        ignored."""
        page, expires = body.get("pageUrl"), body.get("expiresAt")
        return cls(url=body["url"], page_url=page if isinstance(page, str) and page else None,
                   expires_at=expires if isinstance(expires, str) and expires else None)

    @property
    def expires_timestamp(self) -> float | None:
        """``expires_at`` as a Unix time (what the journal keeps); None when absent or not ISO 8601."""
        if not self.expires_at:
            return None
        from datetime import datetime, timezone

        try:
            when = datetime.fromisoformat(self.expires_at.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()

    def chosen(self, copy: str) -> str:
        """The link to hand to the user under ``upload.copy``."""
        if copy == "page" and self.page_url:
            return self.page_url
        return self.url


_LINK_PATH = re.compile(r"/(v|s|videos|screenshots)/([A-Za-z0-9_-]{1,128})(?:\.[A-Za-z0-9]{1,8})?/?$")
_LAST_SEGMENT = re.compile(r"/([A-Za-z0-9_-]{1,128})(?:\.([A-Za-z0-9]{1,8}))?/?$")
_IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif"}


def object_of_link(link: str) -> tuple[str, str] | None:
    """``("video" | "screenshot", id)`` of a link a server handed out: the share page (``/v/<id>``), the file
    (``/v/<id>.webm``) or, with a public_base_url, the stored key (``.../videos/<id>.webm``). Another server's link
    (a seed server's CDN URL) is taken by its last path segment, so that server can say it has no such extension;
    None when the link has no path to go by."""
    path = urlsplit(link.strip()).path
    m = _LINK_PATH.search(path)
    if m is not None:
        return ("video" if m.group(1) in ("v", "videos") else "screenshot"), m.group(2)
    m = _LAST_SEGMENT.search(path)
    if m is None:
        return None
    return ("screenshot" if (m.group(2) or "").lower() in _IMAGE_EXTENSIONS else "video"), m.group(1)
