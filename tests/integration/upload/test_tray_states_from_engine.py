"""The tray's picture and menu follow what the real upload engine reports against the real reference server
(issue 12 #10, tray part): a revoked token (401 -> AUTH_REQUIRED) shows "needs login" and a "Log in" item until the
user logs in; an unreachable server (PAUSED_OFFLINE) shows the offline picture. The engine's events go through the
tray app's own handler (DesktopApp._on_upload_event) into the real TrayIcon model (not started: no display)."""

from __future__ import annotations

import socket

import pytest

from tray import config
from tray.ui.desktop import DesktopApp
from tray.ui.notifications import ProgressNotifier
from tray.ui.tray_icon import TrayIcon, TrayState
from tray_platform.fallback.notify import LogNotifier

from tests.procutil import wait_until

from .helpers import TokenHolder, make_engine, write_random


@pytest.fixture
def app():
    app = DesktopApp(config.Settings())
    app.progress = ProgressNotifier(LogNotifier())
    app.tray = TrayIcon(app, lambda fn: None)
    return app


def labels(app) -> list[str]:
    return [e.text for e in app.tray.menu_spec()]


class Events:
    """``make_engine(events=...)`` appends every event: hand each to the tray app's handler."""

    def __init__(self, handler):
        self.append = handler


def test_revoked_token_shows_log_in_until_the_user_logs_in(server, journal, tmp_path, app):
    path = tmp_path / "clip.webm"
    write_random(path, 300_000)
    tokens = TokenHolder("slk_revoked-long-ago")
    engine = make_engine(server.api_url, tokens, journal, events=Events(app._on_upload_event))
    try:
        upload = engine.upload_file(path)
        wait_until(lambda: engine.auth_required, 30, "the engine in AUTH_REQUIRED")
        wait_until(lambda: app.tray.state is TrayState.NEEDS_LOGIN, 5, "the needs-login picture")
        assert "Log in" in labels(app) and "Log out" not in labels(app), labels(app)
        assert app.tray.tooltip() == "Snaplark — Log in needed (run snaplark login)"
        # what DesktopApp.login does once the new token is stored
        tokens.token = server.token
        app.tray.set_logged_in(True)
        engine.auth_restored()
        upload.wait(30)
        wait_until(lambda: app.tray.state is TrayState.IDLE, 5, "idle after the upload")
        assert "Log out" in labels(app)
    finally:
        assert engine.stop(10)


def test_unreachable_server_shows_offline(journal, tmp_path, app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed: connection refused
    path = tmp_path / "clip.webm"
    write_random(path, 300_000)
    engine = make_engine(f"http://127.0.0.1:{port}/api/v1", TokenHolder("slk_x"), journal,
                         events=Events(app._on_upload_event), connect_timeout=1.0)
    try:
        engine.upload_file(path)
        wait_until(lambda: not engine.is_online, 30, "the engine offline")
        wait_until(lambda: app.tray.state is TrayState.OFFLINE, 5, "the offline picture")
        assert app.tray.tooltip() == "Snaplark — Offline; uploads resume automatically"
        assert "Log out" in labels(app)  # offline is not a login problem
    finally:
        assert engine.stop(10)
