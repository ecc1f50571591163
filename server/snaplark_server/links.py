"""The absolute URLs the server hands out (links in API answers, share pages, previews, oEmbed).

A request's ``Host`` header is whatever the client sent: an outside audit got ``http://evil.example/s/...`` back by
sending ``Host: evil.example``, and a preview card built from it would point a chat app at someone else's server.
So the base of every link is, in this order:

1. ``site_url`` when configured (the server's public address, e.g. ``https://snaplark.example.com``);
2. the request's scheme + ``Host`` when that host is in ``allowed_hosts`` (an entry ``name`` allows any port,
   ``name:port`` only that port, ``*.example.com`` any sub-domain); by default the bind address, ``localhost`` and
   ``127.0.0.1`` -- a reverse proxy that passes ``Host $http_host`` on this machine keeps its own host:port;
3. else the first concrete allowed host (not a wildcard nor 0.0.0.0/::) with the port the request arrived on.

The scheme is the request's (uvicorn takes ``X-Forwarded-Proto`` from trusted proxies). Raw files may instead be
served from ``public_base_url`` (S3 / CDN) by the storage backend; that is decided by the callers. Otherwise raw files
are linked from ``user_content_base_url`` when it is set: a separate origin (another name for this server), so a
file a browser is tricked into rendering never runs in the pages' origin. On that origin only files are served
(`is_user_content_host`; pages answer 404), and files asked for on the site's origin are redirected to it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .config import ServerConfig

_HOST_RE = re.compile(r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::(?P<port>[0-9]{1,5}))?$")
_ANY_ADDRESS = {"0.0.0.0", "::", "[::]", ""}


def parse_host(value: str) -> tuple[str, int | None] | None:
    """``(lower-case host name, port or None)`` of a Host header value; None when it is not a plain host[:port]."""
    m = _HOST_RE.match(value.strip())
    if not m:
        return None
    port = int(m.group("port")) if m.group("port") else None
    if port is not None and not (0 < port < 65536):
        return None
    return m.group("name").lower(), port


def _origin_host(url: str) -> tuple[str, int, int]:
    """(lower-case host as `parse_host` writes it, port, the scheme's default port) of a configured base URL."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    name, port = parse_host(parts.netloc.rsplit("@", 1)[-1]) or (parts.netloc.lower(), None)
    return name, port or default, default


class SiteLinks:
    """Builds the base URL for one request; immutable after construction, safe from any thread."""

    def __init__(self, config: "ServerConfig") -> None:
        self.site_url = config.site_url
        self.user_content = config.user_content_base_url
        self.user_content_host = _origin_host(config.user_content_base_url) if config.user_content_base_url else None
        self.allowed = [entry.lower() for entry in config.effective_allowed_hosts()]

    def file_base(self, base: str) -> str:
        """Where raw files are linked from: ``user_content_base_url``, else the site's ``base``."""
        return self.user_content or base

    def is_user_content_host(self, host_header: str | None) -> bool:
        """Whether a request came for the user-content origin (its Host is ``user_content_base_url``'s; a default
        port written or left out on either side is the same origin -- browsers leave it out: with
        ``http://files.example:80`` a Host of ``files.example`` was redirected to itself forever)."""
        if self.user_content_host is None:
            return False
        parsed = parse_host(host_header or "")
        name, port, default = self.user_content_host
        return parsed is not None and parsed[0] == name and (parsed[1] or default) == port

    def host_allowed(self, name: str, port: int | None) -> bool:
        for entry in self.allowed:
            parsed = parse_host(entry.replace("*.", "x.", 1)) if entry.startswith("*.") else parse_host(entry)
            if parsed is None:
                continue
            want_name, want_port = parsed
            if entry.startswith("*."):
                if not name.endswith(entry[1:]):
                    continue
            elif name != want_name:
                continue
            if want_port is None or want_port == port:
                return True
        return False

    def base(self, scope: dict[str, Any], host_header: str | None) -> str:
        """``scheme://host[:port][root_path]`` without a trailing slash."""
        if self.site_url:
            return self.site_url
        scheme = scope.get("scheme", "http")
        root = str(scope.get("root_path") or "").rstrip("/")
        parsed = parse_host(host_header or "")
        if parsed is not None and self.host_allowed(*parsed):
            return f"{scheme}://{host_header.strip().lower()}{root}"
        server = scope.get("server") or (None, None)
        port = server[1] if len(server) > 1 else None
        name = next((e for e in self.allowed if not e.startswith("*.") and e not in _ANY_ADDRESS), "localhost")
        if parse_host(name) and parse_host(name)[1] is not None:
            return f"{scheme}://{name}{root}"
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"  # a bare IPv6 address
        default = 443 if scheme == "https" else 80
        return f"{scheme}://{name}{'' if port in (None, default) else f':{port}'}{root}"
