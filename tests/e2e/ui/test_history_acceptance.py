"""Issue 20, acceptance 2, as one scenario on the shared Xvfb with the real reference server, a real SQLite journal,
the real upload engine, the real X clipboard (read back with ``xclip``): three screenshots uploaded, the server
stopped, a fourth one cannot reach it -> the History window lists four entries with thumbnails of their pictures
(three "uploaded", one "waiting (offline)": with the server gone the engine waits and probes, it never gives an upload
up); the server comes back and "Retry" finishes the fourth now (the engine's next probe is an hour away here, so
nothing else would); "Copy link" puts its link on the clipboard. Screenshots of the History and the Settings window
go to ``test-artifacts/`` (history-acceptance-*.png, settings-acceptance.png).
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from tests.e2e.ui.conftest import pump, screenshot
from tests.e2e.ui.test_history_window import (  # noqa: F401 - `window_of`: opens the real window
    BLUE, GREEN, RED, YELLOW, by_name, centre_colour, near, png, window_of)
from tests.e2e.ui.test_settings_window import open_settings, settings_file, show_tab  # noqa: F401 - fixtures
from tests.procutil import need_tool, wait_until
from tests.server_kinds import make_server

pytestmark = pytest.mark.e2e


def test_three_uploads_one_offline_retry_finishes_it_copy_link_and_both_windows(window_of, open_settings, tk_root,
                                                                               tmp_path):
    need_tool("xclip")
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal
    from tray.upload.state import UploadState
    from tray_platform.linux.clipboard import create

    server = make_server("reference", tmp_path / "server-data").start()
    folder = tmp_path / "captures"
    folder.mkdir()
    journal = UploadJournal(tmp_path / "uploads.sqlite3").open()
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token, connect_timeout=2.0), journal,
                          server_url=server.api_url, backoff_schedule=(3600.0,))  # no probe before Retry
    files = {name: png(folder, name, colour) for name, colour in
             (("screenshot-1.png", RED), ("screenshot-2.png", GREEN), ("screenshot-3.png", YELLOW),
              ("screenshot-4.png", BLUE))}
    try:
        links = [engine.upload_screenshot(files[f"screenshot-{i}.png"]).wait(30) for i in (1, 2, 3)]
        server.stop()
        fourth = engine.upload_screenshot(files["screenshot-4.png"])
        wait_until(lambda: fourth.progress().state is UploadState.PAUSED_OFFLINE, 20, "the fourth upload offline")

        def progress_of(session_id):
            upload = engine.get(session_id)
            return upload.progress() if upload is not None else None

        window = window_of(journal, folder, engine=engine, clipboard=create(), progress_of=progress_of)
        assert [(i.name, i.state_text) for i in sorted(window.shown, key=lambda i: i.name)] == [
            ("screenshot-1.png", "uploaded"), ("screenshot-2.png", "uploaded"), ("screenshot-3.png", "uploaded"),
            ("screenshot-4.png", "waiting (offline)")]
        assert pump(tk_root, lambda: all(window.thumbnail(i) is not None for i in window.shown), timeout=20), \
            "thumbnails did not arrive"
        for name, colour in (("screenshot-1.png", RED), ("screenshot-2.png", GREEN), ("screenshot-3.png", YELLOW),
                             ("screenshot-4.png", BLUE)):
            assert near(centre_colour(window.thumbnail(by_name(window)[name])), colour), name
        pump(tk_root, timeout=0.3)
        screenshot("history-acceptance-offline")

        # the server is back; Retry tries the waiting upload now
        server.start()
        window.select(by_name(window)["screenshot-4.png"])
        assert "disabled" not in window.buttons["retry"].state()
        window.buttons["retry"].invoke()
        assert pump(tk_root, lambda: by_name(window)["screenshot-4.png"].status == "uploaded", timeout=20), \
            by_name(window)["screenshot-4.png"].state_text
        done = by_name(window)["screenshot-4.png"]
        assert fourth.wait(5) == done.url and done.url not in links
        assert requests.get(done.url, timeout=10).content == files["screenshot-4.png"].read_bytes()

        # Copy link: on the X clipboard
        window.select(done)
        window.buttons["copy_link"].invoke()
        clip = subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True, timeout=5).stdout
        assert clip.decode() == done.url and "Link copied" in window.status.cget("text")
        pump(tk_root, timeout=0.3)
        screenshot("history-acceptance-retried")
        window.close()
        pump(tk_root, timeout=0.2)
    finally:
        engine.stop()
        journal.close()
        server.stop()

    settings = open_settings()
    show_tab(settings, "Hotkeys")
    pump(tk_root, timeout=0.3)
    screenshot("settings-acceptance")
