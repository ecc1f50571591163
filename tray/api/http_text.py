"""Words and numbers from HTTP answers: the one sentence for "no answer", and Retry-After in seconds."""

from __future__ import annotations

import email.utils
import time
from typing import Callable
from urllib.parse import urlsplit


def unreachable_message(url: str, exc: BaseException, timeout: tuple[float, float]) -> str:
    """One sentence for "no HTTP answer", naming the server and the likely fix; never urllib3's retry text (that
    goes to the log)."""
    import requests

    parts = urlsplit(url)
    where = f"{parts.scheme}://{parts.netloc}"
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        why = f"no connection within {timeout[0]:g} s (a firewall, or the host is down)"
    elif isinstance(exc, requests.exceptions.Timeout):
        why = f"it accepted the connection but sent no answer for {timeout[1]:g} s (Timeout)"
    elif "NameResolution" in text or "Name or service not known" in text or "nodename nor servname" in text \
            or "getaddrinfo failed" in text:
        why = f"the host name {parts.hostname!r} does not resolve (a typo in server.url, or no network)"
    elif "Connection refused" in text or "ConnectionRefused" in text:
        why = f"the connection was refused: nothing listens on port {parts.port or parts.scheme}"
    else:
        why = "the connection was dropped before an answer came"
    return f"cannot reach {where}: {why}; check server.url and that the server is running"


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or unparseable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())
