"""Tests that download what an upload printed: with ``upload.copy = "page"`` (the default) the link is the share
page, so the file is found the way a chat app finds it -- the page's ``og:video`` / ``og:image``."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import requests

from tests.procutil import wait_until


class _OpenGraph(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and a.get("property"):
            self.meta[a["property"]] = a.get("content") or ""


def file_of(link: str, timeout: float = 30) -> str:
    """The file a link stands for: the link itself when it names a file (``/v/<id>.webm``), else the file its
    share page names (og:video for a video, og:image for a screenshot)."""
    last = urlsplit(link).path.rsplit("/", 1)[-1]
    if "." in last:
        return link
    page = requests.get(link, timeout=timeout)
    page.raise_for_status()
    assert page.headers["content-type"].startswith("text/html"), (link, page.headers["content-type"])
    og = _OpenGraph()
    og.feed(page.text)
    target = og.meta.get("og:video") or og.meta.get("og:image")
    assert target, f"{link}: the page names no og:video / og:image"
    return target


def new_link(read_clipboard, before: str | None, kind: str, timeout: float, what: str) -> str:
    """Wait for a share link of ``kind`` (``"/s/"`` screenshot, ``"/v/"`` video) on the clipboard that is not
    ``before`` -- what was there before the action (an earlier test's link to a server long gone may still be)."""
    return wait_until(lambda: (lambda c: c if c.startswith("http") and kind in c and c != before else None)(
        read_clipboard()), timeout, what)
