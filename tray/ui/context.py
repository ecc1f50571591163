"""What the tray controller's parts share: :class:`TrayContext`.

The controller (:class:`tray.ui.desktop.DesktopApp`) fills it as it starts (Tk root, dispatcher, notifier, tray icon,
upload stack, clipboard, progress notifier) and hands it to its parts (:mod:`tray.ui.capture_flow`,
:mod:`tray.ui.recording_flow`, :mod:`tray.ui.recent_uploads`, :mod:`tray.ui.account`), which read those fields when
they act. It also owns the messages every part shows the user: errors, warnings, short confirmations, a copied link
(all held back during a full-screen recording, see :mod:`tray.ui.notification_hold`).

Threading: Tk thread only, except ``notify_error``/``notify_warning`` (best effort from any thread: they only call
the notifier, which is thread-safe) and ``post``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from tray.ui.notification_hold import NotificationHold

log = logging.getLogger(__name__)


class TrayContext:
    WARNING_SECONDS = 12.0  # a warning the app keeps working around goes away by itself
    CONFIRM_SECONDS = 3.0  # a short "done" message

    def __init__(self, settings: Any, *, config_path: Path | None = None):
        self.settings = settings
        self.config_path = config_path
        self.root: Any = None  # the Tk root
        self.dispatcher: Any = None  # tray.ui.dispatcher.UiDispatcher: the route into the Tk thread
        self.notifier: Any = None
        self.progress: Any = None  # tray.ui.notifications.ProgressNotifier
        self.tray: Any = None  # tray.ui.tray_icon.TrayIcon
        self.stack: Any = None  # tray.services.UploadStack (connection, journal, engine, history)
        self.clipboard: Any = None
        self.notification_hold = NotificationHold()

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the Tk thread (any thread may call this)."""
        self.dispatcher.post(fn)

    # ------------------------------------------------------------------ messages
    def notify_error(self, title: str, body: str, *, urgency: str = "critical", timeout: float | None = None) -> None:
        log.warning("%s: %s", title, body)

        def show() -> None:
            try:
                extra = {} if timeout is None else {"timeout": timeout}
                self.notifier.notify(title, body, urgency=urgency, **extra)
            except Exception:  # noqa: BLE001 - notifications are best effort
                log.exception("notification failed")

        if not self.notification_hold.offer(None, show):  # held: a full-screen recording shows it when it ends
            show()

    def notify_warning(self, title: str, body: str) -> None:
        """Something to know, nothing to act on at once (a hotkey taken, nothing opened a folder): normal urgency,
        closes by itself."""
        self.notify_error(title, body, urgency="normal", timeout=self.WARNING_SECONDS)

    def confirm(self, title: str, body: str) -> None:
        """A short "done" message: normal urgency, gone after CONFIRM_SECONDS; held during a full-screen recording."""
        def show() -> None:
            try:
                self.notifier.notify(title, body, timeout=self.CONFIRM_SECONDS)
            except Exception:  # noqa: BLE001 - notifications are best effort
                log.exception("notification failed")

        if not self.notification_hold.offer(None, show):
            show()

    def copy_link(self, url: str, *, confirm: bool = True) -> None:
        """Recent uploads menu, a notification's "Copy link": copy, then say so briefly (``confirm``)."""
        if self.clipboard is None:
            self.notify_error("No clipboard", f"Could not copy the link: {url}")
            return
        try:
            self.clipboard.copy_text(url)
        except Exception as exc:  # noqa: BLE001
            self.notify_error("Could not copy the link", f"{exc}. The link: {url}")
            return
        if confirm:
            self.confirm("Link copied", url)

    # ------------------------------------------------------------------ shared helpers
    def hotkey_display(self, name: str) -> str:
        """How the hotkey ``hotkeys.<name>`` reads in a menu or a hint ("Ctrl+Alt+S"); "" when unset or invalid."""
        value = getattr(self.settings.hotkeys, name, "")
        if not value:
            return ""
        from tray.ui.hotkeys import HotkeyError, parse_hotkey

        try:
            return parse_hotkey(f"hotkeys.{name}", value).display()
        except HotkeyError:
            return ""

    def warm_upload_path(self) -> None:
        """An upload is likely soon: wake the server side (``ServerConnection.warm``) and open the upload
        connection (``UploadEngine.warm``); both work on their own threads."""
        if self.stack is not None and self.stack.connection is not None:
            self.stack.connection.warm()
        engine = getattr(self.stack, "engine", None)
        if engine is not None:
            engine.warm()
