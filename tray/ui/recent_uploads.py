"""The tray menu's Recent uploads, and what happens when an upload's link arrives.

:meth:`RecentUploads.await_url` waits for an upload's link on a short-lived thread (never the Tk thread), then on
the Tk thread copies it (if asked) and refreshes the menu from the upload history (the upload history, built once by the
upload stack; the journal writes the history row before the upload counts as completed, so the new link is in it).

Threading: methods are called on the Tk thread; the waiting threads only ``post``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from tray.ui.context import TrayContext

log = logging.getLogger(__name__)

RECENT_COUNT = 10


class RecentUploads:
    def __init__(self, ctx: TrayContext):
        self.ctx = ctx

    def refresh(self) -> None:
        """Fill the menu from the history, newest first: "Recording 2:41 · 14:05"."""
        from tray.ui.tray_icon import RecentUpload

        try:
            rows = self.ctx.stack.history.entries(RECENT_COUNT)
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
