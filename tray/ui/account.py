"""Log in and out from the tray menu (or a notification's "Log in" action): the token goes to the keyring.

Threading: ``login``/``logout`` are called on the Tk thread. Only the token dialog runs there; checking the token
with the server (HTTP) and the keyring calls run on a short-lived ``login``/``logout`` thread, which posts the
outcome back to the Tk thread (``TrayContext.post``). One login or logout at a time; a second request while one is
under way is ignored.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from tray.ui.context import TrayContext

log = logging.getLogger(__name__)


class AccountFlow:
    def __init__(self, ctx: TrayContext, *, token_store: Any = None):
        self.ctx = ctx
        self._token_store = token_store  # tray.api.token_store.TokenStore, made on first use
        self._busy = False

    def login(self) -> None:
        """Ask for a token (hidden entry); then, off the Tk thread, verify it with GET /me and keep it in the
        keyring; back on the Tk thread, say so and let the waiting uploads go on."""
        if self._busy:
            return
        from tkinter import simpledialog

        ctx = self.ctx
        api_url = ctx.stack.connection.api_url
        token = simpledialog.askstring("Snaplark — log in", f"Token for {api_url}:", show="*", parent=ctx.root)
        if not token:
            return
        token = token.strip()

        def work() -> Callable[[], None]:
            from tray.api.server_check import verify_token

            try:
                checked = verify_token(api_url, token)
                self._store().set(api_url, token)
            except Exception as exc:  # noqa: BLE001 - ApiError, keyring errors: shown to the user
                message = str(exc)
                return lambda: ctx.notify_error("Log in failed", message)
            return lambda: self._logged_in(checked)

        self._off_tk_thread("login", work)

    def _logged_in(self, checked: Any) -> None:
        ctx = self.ctx
        ctx.tray.set_logged_in(True)
        ctx.notifier.notify("Logged in", f"as {checked.user}; uploads continue." if checked.user else
                            f"Token stored: {checked.note}.")
        ctx.stack.engine.auth_restored()

    def logout(self) -> None:
        """Forget the token (keyring, off the Tk thread); the menu then offers Log in."""
        if self._busy:
            return
        ctx = self.ctx
        api_url = ctx.stack.connection.api_url

        def work() -> Callable[[], None]:
            try:
                self._store().delete(api_url)
            except Exception as exc:  # noqa: BLE001
                message = str(exc)
                return lambda: ctx.notify_error("Log out failed", message)
            return lambda: ctx.tray.set_logged_in(False)

        self._off_tk_thread("logout", work)

    def _store(self) -> Any:
        """The token store (worker threads only; TokenStore is thread-safe)."""
        if self._token_store is None:
            from tray.api.token_store import TokenStore

            self._token_store = TokenStore()
        return self._token_store

    def _off_tk_thread(self, name: str, work: Callable[[], Callable[[], None]]) -> None:
        """Run ``work`` on its own thread; what it returns runs on the Tk thread."""
        self._busy = True

        def run() -> None:
            then: Callable[[], None] | None = None
            try:
                then = work()
            finally:  # whatever happened, the flow is free again (on the Tk thread, where _busy is read)
                self.ctx.post(lambda: self._done(then))

        threading.Thread(target=run, name=name, daemon=True).start()

    def _done(self, then: Callable[[], None] | None) -> None:
        self._busy = False
        if then is not None:
            then()
