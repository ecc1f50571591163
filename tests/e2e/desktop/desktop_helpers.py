"""Helpers shared by the desktop e2e tests (uniquely named so it never collides with another conftest)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.procutil import tray_selection_owned, wait_until  # noqa: F401 (re-exported for the desktop tests)


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"missing tools: {', '.join(missing)}"
        if os.environ.get("SNAPLARK_REQUIRE_ALL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(name="app")
def menu_app(notification_service, tmp_path):
    """``app``: a DesktopApp with its menu model and a real D-Bus notifier, not running: posted commands wait in
    ``app.posted`` (run them with :func:`run_posted`)."""
    import queue
    import types

    from tray import config
    from tray.ui.desktop import DesktopApp
    from tray.ui.tray_icon import TrayIcon
    from tray_platform.linux.notify import DBusNotifier

    settings = config.Settings(upload=config.UploadSettings(save_dir=str(tmp_path / "captures")))
    app = DesktopApp(settings, config_path=tmp_path / "cfg" / "config.toml")
    posted: queue.Queue = queue.Queue()
    app.dispatcher = types.SimpleNamespace(post=posted.put, stopped=False)
    app.posted = posted
    app.notifier = DBusNotifier(call_timeout=3.0).open()
    app.tray = TrayIcon(app, posted.put)  # not started: the menu model the tray host shows
    yield app
    app.notifier.close_connection()


def run_posted(app, timeout: float = 5.0) -> None:
    app.posted.get(timeout=timeout)()
