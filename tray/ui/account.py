"""Log in and out from the tray menu (or a notification's "Log in" action): the token goes to the keyring.

Threading: Tk thread only.
"""

from __future__ import annotations

import logging

from tray.ui.context import TrayContext

log = logging.getLogger(__name__)


class AccountFlow:
    def __init__(self, ctx: TrayContext):
        self.ctx = ctx

    def login(self) -> None:
        """Ask for a token (hidden entry), verify it with GET /me, keep it in the keyring, resume uploads."""
        from tkinter import simpledialog

        from tray.api.errors import ApiError
        from tray.api.token_store import TokenStore

        ctx = self.ctx
        conn = ctx.stack.connection
        token = simpledialog.askstring("Snaplark — log in", f"Token for {conn.api_url}:", show="*",
                                       parent=ctx.root)
        if not token:
            return
        token = token.strip()
        from tray.api.server_check import verify_token

        try:
            checked = verify_token(conn.api_url, token)
            TokenStore().set(conn.api_url, token)
        except (ApiError, Exception) as exc:  # noqa: BLE001 - shown to the user
            ctx.notify_error("Log in failed", str(exc))
            return
        ctx.tray.set_logged_in(True)
        ctx.notifier.notify("Logged in", f"as {checked.user}; uploads continue." if checked.user else
                            f"Token stored: {checked.note}.")
        ctx.stack.engine.auth_restored()

    def logout(self) -> None:
        from tray.api.token_store import TokenStore

        ctx = self.ctx
        try:
            TokenStore().delete(ctx.stack.connection.api_url)
        except Exception as exc:  # noqa: BLE001
            ctx.notify_error("Log out failed", str(exc))
            return
        ctx.tray.set_logged_in(False)
