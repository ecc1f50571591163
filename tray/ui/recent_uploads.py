"""The tray menu's Recent uploads, and what happens when an upload's link arrives or the owner deletes one.

Each entry is named for people ("Screenshot 14:03", "Recording 2:41 · 14:05": :class:`RecentUpload`); clicking it
copies the link. The submenu ends with "Delete link…", listing the same entries: picking one asks first (the History
window's question), deletes the upload on the server off the Tk thread (``DELETE /objects/<id>``, as ``snaplark
delete`` does), records it in the journal (the entry leaves the menu, the History window says "link deleted") and
tells the user in a notification -- or says why not (a seed-only server cannot delete).

:meth:`RecentUploads.await_url` waits for an upload's link on a short-lived thread (never the Tk thread), then on
the Tk thread copies it (if asked) and refreshes the menu from the upload history (the upload history, built once by the
upload stack; the journal writes the history row before the upload counts as completed, so the new link is in it).

Threading: methods are called on the Tk thread; the waiting and deleting threads only ``post``. :class:`RecentUpload`
and :func:`recent_menu` are pure (any thread: the tray builds its menu on its own thread).
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from tray.ui.context import TrayContext
from tray.ui.menu_entry import SEPARATOR, MenuEntry

log = logging.getLogger(__name__)

RECENT_COUNT = RECENT_LIMIT = 10
_KIND_NAMES = {"screenshot": "Screenshot", "video": "Recording", "gif": "GIF"}


@dataclass(frozen=True)
class RecentUpload:
    title: str
    url: str

    @classmethod
    def describe(cls, kind: str, url: str, when: float, duration: float | None = None, *,
                 now: float | None = None) -> "RecentUpload":
        """"Screenshot 14:03", "Recording 2:41 · 14:05"; ``when`` (epoch seconds) in local time, with the date
        when it is not today (``now``, default: the current time)."""
        from tray.humanize import human_duration

        name = _KIND_NAMES.get(kind, (kind or "Upload").capitalize())
        if duration:
            name += f" {human_duration(duration)} ·"
        return cls(f"{name} {_local_time(when, time.time() if now is None else now)}", url)

    @classmethod
    def from_history(cls, row: Any, *, now: float | None = None) -> "RecentUpload":
        """From an upload history row (``kind``, ``url``, ``completed_at``, ``duration``)."""
        return cls.describe(row.kind, row.url, row.completed_at, row.duration, now=now)


def _local_time(when: float, now: float) -> str:
    at, today = _dt.datetime.fromtimestamp(when), _dt.datetime.fromtimestamp(now)
    if at.date() == today.date():
        return f"{at:%H:%M}"
    if at.year == today.year:
        return f"{at.day} {at:%b} {at:%H:%M}"
    return f"{at.day} {at:%b} {at.year} {at:%H:%M}"


def recent_menu(recent: list[RecentUpload], *, copy: Callable[[str], Callable[[], None]],
                delete: Callable[[str], Callable[[], None]]) -> list[MenuEntry]:
    """The Recent uploads submenu: one entry per upload (``copy(url)``: its action), then "Delete link…" with the
    same entries (``delete(url)``)."""
    if not recent:
        return [MenuEntry("No uploads yet", enabled=False)]
    return [*(MenuEntry(_shorten(u.title), copy(u.url)) for u in recent), SEPARATOR,
            MenuEntry("Delete link…", submenu=[MenuEntry(_shorten(u.title), delete(u.url)) for u in recent])]


def _shorten(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RecentUploads:
    """``confirm(title, text)``: asks the user before a link is deleted (True = go ahead); default: the Tk yes/no
    dialog the History window uses."""

    def __init__(self, ctx: TrayContext, *, confirm: Callable[[str, str], bool] | None = None):
        self.ctx = ctx
        self._confirm = confirm

    def refresh(self) -> None:
        """Fill the menu from the history, newest first: "Recording 2:41 · 14:05" (deleted links are left out)."""
        try:
            rows = self.ctx.stack.history.entries(RECENT_COUNT, alive_only=True)
        except Exception as exc:  # noqa: BLE001 - the menu just stays empty
            log.debug("history unavailable: %s", exc)
            return
        self.ctx.tray.set_recent([RecentUpload.from_history(row) for row in rows])

    def await_url(self, upload: Any, *, copy: bool) -> None:
        """When ``upload`` completes: its link on the clipboard (``copy``) and in the menu."""
        def wait() -> None:
            try:
                url = upload.wait(None)
            except Exception as exc:  # noqa: BLE001 - FAILED: the notifier already told the user
                log.warning("upload %s failed: %s", getattr(upload, "id", "?"), exc)
                return
            self.ctx.post(lambda: self.uploaded(url, upload, copy))

        threading.Thread(target=wait, name=f"await-upload-{getattr(upload, 'id', '?')}", daemon=True).start()

    def uploaded(self, url: str, upload: Any, copy: bool) -> None:
        log.info("uploaded: %s", url)
        if copy:
            self.ctx.copy_link(url, confirm=False)  # the upload's own notification shows the link
        self.refresh()  # the journal wrote the history row before the upload counted as completed

    def delete_link(self, url: str) -> None:
        """"Delete link…" → an entry: ask, delete on the server (off this thread), record it, say how it went."""
        from tray.ui.history_actions import DELETE_LINK_TITLE, delete_link_question, delete_on_server

        if not self._ask(DELETE_LINK_TITLE, delete_link_question(url)):
            return
        stack, ctx = self.ctx.stack, self.ctx

        def work() -> None:
            try:
                delete_on_server(stack.connection, url, stack.history)
            except Exception as exc:  # noqa: BLE001 - every failure is the user's to read
                log.warning("deleting %s failed: %s", url, exc)
                text = str(exc)
                ctx.post(lambda: ctx.notify_error("Could not delete the link", text[:1].upper() + text[1:]))
                return
            log.info("deleted the link %s", url)
            ctx.post(lambda: (ctx.confirm("Link deleted", f"{url} now answers 410 Gone"), self.refresh()))

        threading.Thread(target=work, name="delete-link", daemon=True).start()

    def _ask(self, title: str, text: str) -> bool:
        if self._confirm is not None:
            return self._confirm(title, text)
        from tkinter import messagebox

        return bool(messagebox.askyesno(title, text, parent=self.ctx.root))
