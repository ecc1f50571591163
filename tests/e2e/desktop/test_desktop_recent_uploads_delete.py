"""Recent uploads → "Delete link…" in the tray menu of the real tray app object (issue 15 "tray Recent uploads →
Delete"): picking an upload asks first in the real Tk dialog (answered with xdotool), deletes it on the real server
off the Tk thread, records it in the real upload journal (the entry leaves the menu) and says so in a notification
received by the recording notification service on a real private session bus. A seed-only server (no delete) gets
"this server cannot delete links", as `snaplark delete` says, and nothing is recorded.
"""

from __future__ import annotations

import types

import pytest
import requests

from desktop_helpers import menu_app  # noqa: F401 - the `app` fixture
from desktop_helpers import require_tools, run_posted
from tests.e2e.ui.conftest import answer_dialog, pump
from tests.integration.server.test_share_pages import png_bytes
from tests.server_kinds import server_each_kind  # noqa: F401 - the `server` fixture, of each kind
from tray.upload.history import UploadHistory
from tray.upload.journal import UploadJournal

pytestmark = pytest.mark.e2e


@pytest.fixture
def tk_app(app, desktop_display):
    """The menu app with a (withdrawn) Tk root, as the running tray app has: the confirmation's parent."""
    import tkinter as tk

    root = tk.Tk(className="snaplark")
    root.withdraw()
    app.root = root
    yield app
    root.destroy()


def upload_two(server, tmp_path, journal) -> list[str]:
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine

    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal, server_url=server.api_url)
    links = []
    try:
        for name in ("first.png", "second.png"):
            shot = tmp_path / name
            shot.write_bytes(png_bytes())
            links.append(engine.upload_screenshot(shot).wait(30))
    finally:
        engine.stop()
    return links


def test_delete_link_from_recent_uploads_asks_deletes_records_and_tells(tk_app, notification_service, server,
                                                                         tmp_path):
    require_tools("xdotool")
    from tray.services import ServerConnection

    app = tk_app
    journal = UploadJournal(tmp_path / "data" / "uploads.sqlite3").open()
    connection = ServerConnection(server.api_url, lambda: server.token)
    try:
        first, second = upload_two(server, tmp_path, journal)
        app.stack = types.SimpleNamespace(history=UploadHistory(journal), connection=connection)
        app.recent.refresh()
        recent = app.tray.menu_spec()[7].submenu
        assert recent[-1].text == "Delete link…" and len(recent[-1].submenu) == 2
        assert recent[-1].submenu[0].text == recent[0].text  # newest first: the second upload

        # "No": nothing is deleted, nothing recorded, nothing said
        driver = answer_dialog("Delete link\\?", "alt+n")
        recent[-1].submenu[0].action()  # the tray thread only posts
        run_posted(app)  # the Tk thread asks (the real dialog)
        pump(app.root, lambda: not driver.is_alive(), timeout=25)  # Tk flushes the closed dialog to X
        assert app.posted.empty() and requests.get(second, timeout=10).status_code == 200
        assert [h.deleted_at for h in journal.history()] == [None, None]

        # "Yes"
        driver = answer_dialog("Delete link\\?", "alt+y")
        app.tray.menu_spec()[7].submenu[-1].submenu[0].action()
        run_posted(app)
        pump(app.root, lambda: not driver.is_alive(), timeout=25)  # Tk flushes the closed dialog to X
        run_posted(app, timeout=20)  # the deleting thread's outcome, back on the Tk thread
        call = notification_service.wait_for(lambda calls: calls and calls[-1])
        if server.kind == "seed":
            assert call.summary == "Could not delete the link"
            assert call.body.startswith("This server cannot delete links") and "seed-only" in call.body, call.body
            assert requests.get(second, timeout=10).status_code == 200
            assert [h.deleted_at for h in journal.history()] == [None, None]
            assert len(app.tray.menu_spec()[7].submenu[-1].submenu) == 2
            return
        assert (call.summary, call.body) == ("Link deleted", f"{second} now answers 410 Gone")
        assert requests.get(second, timeout=10).status_code == 410
        assert requests.get(first, timeout=10).status_code == 200
        marks = {h.url: h.deleted_at for h in journal.history()}
        assert marks[second] is not None and marks[first] is None
        recent = app.tray.menu_spec()[7].submenu
        assert len(recent) == 3 and len(recent[-1].submenu) == 1  # the deleted link left the menu
        assert recent[-1].submenu[0].text == recent[0].text
    finally:
        connection.close()
        journal.close()
