"""The Settings window's "Check server": ``snaplark server check``'s survey (:func:`tray.api.server_check.survey`,
with its one-frame test upload) of the server the form names, run off the Tk thread, its report shown in the window.

The connection: the tray's own when the form names the server the app uses (its token provider, the embedded server
it runs); otherwise :func:`tray.services.connect_server` for the form's settings without starting a server (a
remote URL uses the keyring's token for it; an embedded port nobody listens on is reported).

Threading: Tk thread, except the check itself (a ``server-check`` thread that only posts its result).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from tray.ui.context import TrayContext

log = logging.getLogger(__name__)


class ServerCheckPanel:
    def __init__(self, ctx: TrayContext, frame: Any, row: int, *, settings: Callable[[], Any]):
        from tkinter import ttk

        self.ctx = ctx
        self._settings = settings
        self.running = False
        self.closed = False
        self.button = ttk.Button(frame, text="Check server", command=self.check)
        self.button.grid(row=row, column=0, sticky="w", pady=(12, 0))
        self.report = ttk.Label(frame, text="", justify="left", wraplength=620, font="TkFixedFont")
        self.report.grid(row=row + 1, column=0, columnspan=3, sticky="w", pady=(6, 0))

    def check(self) -> None:
        if self.running:
            return
        self.running = True
        self.button.state(["disabled"])
        settings = self._settings()
        self.report.configure(text=f"Checking {settings.server.url or 'the embedded server'}…")
        threading.Thread(target=self._run, args=(settings,), name="server-check", daemon=True).start()

    def _run(self, settings: Any) -> None:
        try:
            text = survey_text(settings, self.ctx.stack)
        except Exception as exc:  # noqa: BLE001 - ServerUnavailable, keyring errors: the report says it
            text = f"Cannot check: {exc}"
        self.ctx.post(lambda: self._done(text))

    def _done(self, text: str) -> None:
        self.running = False
        if self.closed:
            return
        self.button.state(["!disabled"])
        self.report.configure(text=text)

    def close(self) -> None:
        self.closed = True


def survey_text(settings: Any, stack: Any = None) -> str:
    """The rendered survey of the server ``settings`` names (blocking: HTTP)."""
    from tray.api.server_check import survey
    from tray.services import connect_server

    own = stack.connection if stack is not None and stack.connection is not None else None
    same = own is not None and settings.server == stack.settings.server
    connection = own if same else connect_server(settings, start_embedded=False)
    client = connection.client(connect_timeout=5.0, min_read_timeout=15.0)
    try:
        return survey(client).render()
    finally:
        client.close()
        if connection is not own:
            connection.close()
