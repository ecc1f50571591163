"""The tray app's windows: History (:mod:`tray.ui.history_window`) and Settings (:mod:`tray.ui.settings_window`),
one of each at a time (asking again raises the open one).

Threading: Tk thread only.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from tray.ui.context import TrayContext

log = logging.getLogger(__name__)


class AppWindows:
    """``recent``: the tray's :class:`~tray.ui.recent_uploads.RecentUploads` (an upload started from the History
    window puts its link on the clipboard and in the menu like any other). ``on_settings_saved(settings)``: the
    controller applies what it can at once (hotkeys) and returns what needs a restart. ``on_login``/``on_logout``:
    the account flow; ``on_hotkey_recording(bool)``: the Settings window records a hotkey (ours must not fire)."""

    def __init__(self, ctx: TrayContext, recent: Any, *,
                 on_settings_saved: Callable[[Any], list[str]] | None = None,
                 on_login: Callable[[], None] | None = None, on_logout: Callable[[], None] | None = None,
                 on_hotkey_recording: Callable[[bool], None] | None = None):
        self.ctx = ctx
        self.recent = recent
        self.on_settings_saved = on_settings_saved
        self._account = (on_login, on_logout)
        self._on_hotkey_recording = on_hotkey_recording
        self.history_window: Any = None
        self.settings_window: Any = None

    def open_history(self) -> Any:
        if self.history_window is not None and not self.history_window.closed:
            self.history_window.raise_()
            return self.history_window
        from tray.ui.history_actions import delete_on_server
        from tray.ui.history_window import HistoryWindow

        ctx = self.ctx

        def progress_of(session_id: int) -> Any:
            upload = ctx.stack.engine.get(session_id)
            return upload.progress() if upload is not None else None

        self.history_window = HistoryWindow(
            ctx, ctx.stack.history, save_dir=lambda: ctx.settings.upload.resolved_save_dir(),
            engine=lambda: ctx.stack.engine, progress_of=progress_of,
            delete_link=lambda item: delete_on_server(ctx.stack.connection, item.url, ctx.stack.history),
            on_upload=lambda upload: self.recent.await_url(upload, copy=True))
        return self.history_window

    def open_settings(self) -> Any:
        if self.settings_window is not None and not self.settings_window.closed:
            self.settings_window.raise_()
            return self.settings_window
        from tray.ui.settings_window import SettingsWindow

        self.settings_window = SettingsWindow(self.ctx, on_saved=self.on_settings_saved, on_login=self._account[0],
                                              on_logout=self._account[1], on_recording=self._on_hotkey_recording)
        return self.settings_window

    def close(self) -> None:
        for window in (self.history_window, self.settings_window):
            if window is not None and not window.closed:
                window.close()


def run_history_window(settings: Any) -> int:
    """``snaplark history --window`` with no tray app running: the History window alone, on its own Tk root (this
    thread), until it is closed. Retry / upload again open the upload stack (and maybe the embedded server) on
    first use, off the Tk thread; uploads still running at close resume at the next start."""
    import threading
    import tkinter as tk

    from tray.services import UploadStack, open_upload_history
    from tray.ui.dispatcher import UiDispatcher
    from tray.ui.history_actions import delete_on_server
    from tray.ui.history_window import HistoryWindow
    from tray_platform.fallback.notify import LogNotifier

    ctx = TrayContext(settings)
    ctx.root = tk.Tk(className="snaplark")
    ctx.root.withdraw()
    ctx.dispatcher = UiDispatcher(ctx.root)
    ctx.notifier = LogNotifier()
    try:
        from tray_platform.base import choose_backend

        ctx.clipboard = choose_backend("clipboard", env_var="SNAPLARK_CLIPBOARD", root=ctx.root).backend
    except Exception as exc:  # noqa: BLE001 - copy link then says there is no clipboard
        log.warning("no clipboard: %s", exc)
    lock = threading.Lock()

    def engine() -> Any:  # worker threads only
        with lock:
            if ctx.stack is None:
                ctx.stack = UploadStack(settings).open()
            return ctx.stack.engine

    def progress_of(session_id: int) -> Any:
        upload = ctx.stack.engine.get(session_id) if ctx.stack is not None else None
        return upload.progress() if upload is not None else None

    with open_upload_history() as history:
        HistoryWindow(ctx, history, save_dir=settings.upload.resolved_save_dir, engine=engine,
                      progress_of=progress_of, on_close=ctx.dispatcher.stop,
                      delete_link=lambda item: (engine(), delete_on_server(ctx.stack.connection, item.url, history)))
        try:
            ctx.dispatcher.run()
        finally:
            with lock:
                if ctx.stack is not None:
                    ctx.stack.close()
            ctx.root.destroy()
    return 0
