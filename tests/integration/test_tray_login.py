"""The tray's Log in / Log out (issue 13): the token check (HTTP, real reference server) and the keyring (a real,
private gnome-keyring) run off the Tk thread, and the outcome comes back through the dispatcher.

The "Tk thread" is this test's thread: the app's dispatcher is a queue this thread drains (what ``UiDispatcher``
does on the Tk thread). Only the token dialog is replaced (the OS edge: a person typing). Spies note the thread of
``ApiClient.me`` and ``TokenStore.set``/``delete`` and call the real ones. No display needed.
"""

from __future__ import annotations

import queue
import threading
import time
import types

import pytest

from tray import config
from tray.api.client import ApiClient
from tray.api.token_store import TokenStore
from tray.services import ServerConnection
from tray.ui.desktop import DesktopApp
from tray.ui.tray_icon import TrayIcon
from tray.upload.engine import UploadEngine
from tray.upload.journal import UploadJournal

pytestmark = pytest.mark.usefixtures("keyring_env")

ME_DELAY = 3.0  # the server takes this long to answer GET /me


class Notifier:
    """The desktop's notification service (the OS edge): what was shown, and on which thread."""

    def __init__(self):
        self.shown: list[tuple[str, str, str]] = []

    def notify(self, title, body, **kw):
        self.shown.append((title, body, threading.current_thread().name))
        return len(self.shown)


@pytest.fixture
def threads_of(monkeypatch):
    """{"me": [thread names], "set": [...], "delete": [...]}: where the real HTTP and keyring calls ran."""
    seen: dict[str, list[str]] = {"me": [], "set": [], "delete": []}

    def spy(cls, name, key):
        real = getattr(cls, name)

        def wrapper(self, *a, **kw):
            seen[key].append(threading.current_thread().name)
            return real(self, *a, **kw)

        monkeypatch.setattr(cls, name, wrapper)

    spy(ApiClient, "me", "me")
    spy(TokenStore, "set", "set")
    spy(TokenStore, "delete", "delete")
    return seen


@pytest.fixture
def app(server, tmp_path, monkeypatch):
    """A DesktopApp whose Tk thread is this thread, against the reference server; the dialog answers ``typed``."""
    from tkinter import simpledialog

    typed = {"token": server.token}
    monkeypatch.setattr(simpledialog, "askstring", lambda *a, **kw: typed["token"])
    app = DesktopApp(config.Settings())
    posted: queue.Queue = queue.Queue()
    app.dispatcher = types.SimpleNamespace(post=posted.put, stopped=False)
    app.notifier = Notifier()
    app.tray = TrayIcon(app, lambda fn: None)  # not started: the menu model
    journal = UploadJournal(tmp_path / "uploads.sqlite3").open()
    connection = ServerConnection(server.api_url, lambda: None)
    app.stack = types.SimpleNamespace(connection=connection, journal=journal,
                                      engine=UploadEngine(connection.client, journal, server_url=server.api_url))
    app.typed, app.posted = typed, posted
    yield app
    app.stack.engine.stop(5)
    journal.close()


def run_posted_until(app, done, timeout: float, what: str) -> None:
    """Drain the dispatcher queue on this ("Tk") thread until ``done()``."""
    deadline = time.monotonic() + timeout
    while not done():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{what} within {timeout} s")
        try:
            app.posted.get(timeout=min(remaining, 0.1))()
        except queue.Empty:
            pass


def menu(app) -> list[str]:
    return [e.text for e in app.tray.menu_spec()]


def test_login_checks_and_stores_the_token_off_the_tk_thread(app, server, threads_of):
    server.thread.faults.add("/api/v1/me", count=1, status=None, delay=ME_DELAY)
    app.tray.set_logged_in(False)
    tk_thread = threading.current_thread().name
    started = time.monotonic()
    app.login()
    assert time.monotonic() - started < ME_DELAY / 2, "login() waited for the server on the Tk thread"
    assert TokenStore().get(server.api_url) is None  # not yet: the check is still under way
    run_posted_until(app, lambda: "Log out" in menu(app), ME_DELAY + 15, "the menu to offer Log out")
    assert threads_of["me"] and tk_thread not in threads_of["me"], threads_of
    assert threads_of["set"] and tk_thread not in threads_of["set"], threads_of
    assert TokenStore().get(server.api_url) == server.token
    (title, body, shown_on), = app.notifier.shown
    assert (title, body, shown_on) == ("Logged in", "as alice; uploads continue.", tk_thread)
    TokenStore().delete(server.api_url)


def test_refused_token_is_told_on_the_tk_thread_and_nothing_is_stored(app, server, threads_of):
    app.typed["token"] = "slk_not-a-token-of-this-server"
    tk_thread = threading.current_thread().name
    app.login()
    run_posted_until(app, lambda: app.notifier.shown, 15, "the login failure to be told")
    (title, _, shown_on), = app.notifier.shown
    assert (title, shown_on) == ("Log in failed", tk_thread)
    assert threads_of["me"] and tk_thread not in threads_of["me"] and threads_of["set"] == []
    assert TokenStore().get(server.api_url) is None
    # the flow is free again: a second try with the right token works
    app.typed["token"] = server.token
    app.login()
    run_posted_until(app, lambda: len(app.notifier.shown) == 2, 15, "the second login")
    assert app.notifier.shown[-1][0] == "Logged in"
    TokenStore().delete(server.api_url)


def test_logout_forgets_the_token_off_the_tk_thread(app, server, threads_of):
    TokenStore().set(server.api_url, server.token)
    app.tray.set_logged_in(True)
    tk_thread = threading.current_thread().name
    app.logout()
    run_posted_until(app, lambda: "Log in" in menu(app), 15, "the menu to offer Log in")
    assert threads_of["delete"] and tk_thread not in threads_of["delete"], threads_of
    assert TokenStore().get(server.api_url) is None
