"""What the tray shows when the upload engine reports a refused token or no network (issue 12 #10, tray part):
the real TrayIcon model, fed through the tray app's own event handler (``DesktopApp._on_upload_event``, what the
engine calls) with the event objects the engine publishes. No display, no network: the icon is never started."""

from __future__ import annotations

from pathlib import Path

import pytest

from tray import config
from tray.ui.desktop import DesktopApp
from tray.ui.notifications import ProgressNotifier
from tray.ui.tray_icon import TrayIcon, TrayState
from tray.upload.events import StateChanged, UploadProgress
from tray.upload.progress import ProgressSnapshot
from tray.upload.state import UploadState as S
from tray_platform.fallback.notify import LogNotifier


def progress(uid, state, *, online=True, pct=40):
    """An UploadProgress as the engine builds it (tray/upload: RecordingUpload.progress())."""
    return UploadProgress(uid, ProgressSnapshot(
        upload_id=uid, kind="video", state=state, parts_uploaded=2, parts_pending=3, bytes_sent=pct * 1000,
        bytes_total=100_000, online=online, session_id="s1", path=Path("/tmp/recording-1.webm"), finished=True))


def change(uid, old, new, reason=""):
    return StateChanged(uid, "video", old, new, reason)


@pytest.fixture
def app():
    app = DesktopApp(config.Settings())
    app.progress = ProgressNotifier(LogNotifier())
    app.tray = TrayIcon(app, lambda fn: None)
    return app


def labels(app) -> list[str]:
    return [e.text for e in app.tray.menu_spec()]


def test_auth_required_shows_needs_login_and_log_in_until_the_token_works_again(app):
    app._on_upload_event(change(1, S.IDLE, S.INITIALIZING))
    app._on_upload_event(progress(1, S.UPLOADING))
    assert app.tray.state is TrayState.UPLOADING and "Log out" in labels(app)
    app._on_upload_event(change(1, S.UPLOADING, S.AUTH_REQUIRED, "401 from the server"))
    app._on_upload_event(progress(1, S.AUTH_REQUIRED))
    assert app.tray.state is TrayState.NEEDS_LOGIN
    assert "Log in" in labels(app) and "Log out" not in labels(app), labels(app)
    # a screenshot queued meanwhile (IDLE/INITIALIZING, no answer yet) does not hide it
    app._on_upload_event(change(2, S.IDLE, S.INITIALIZING))
    assert app.tray.state is TrayState.NEEDS_LOGIN and "Log in" in labels(app)
    # the user logs in: the upload goes on, the menu offers Log out again
    app.tray.set_logged_in(True)
    app._on_upload_event(change(1, S.AUTH_REQUIRED, S.UPLOADING))
    assert app.tray.state is TrayState.UPLOADING and "Log out" in labels(app)


def test_auth_required_told_only_by_the_state_change_event(app):
    """The engine sends at most 4 progress events/s and drops the rest: a StateChanged may be all there is."""
    app._on_upload_event(progress(1, S.UPLOADING))
    app._on_upload_event(change(1, S.UPLOADING, S.AUTH_REQUIRED, "401"))
    assert app.tray.state is TrayState.NEEDS_LOGIN and "Log in" in labels(app)


def test_token_working_again_without_the_menu_resets_the_login_state(app):
    """`snaplark login` in a terminal: the engine's next request works; the tray follows."""
    app._on_upload_event(change(1, S.UPLOADING, S.AUTH_REQUIRED, "401"))
    app._on_upload_event(change(1, S.AUTH_REQUIRED, S.UPLOADING))
    app._on_upload_event(progress(1, S.UPLOADING))
    assert app.tray.state is TrayState.UPLOADING and "Log out" in labels(app)


def test_offline_has_its_own_picture_and_clears_when_back_online(app):
    app._on_upload_event(progress(1, S.UPLOADING))
    app._on_upload_event(change(1, S.UPLOADING, S.PAUSED_OFFLINE, "connection refused"))
    assert app.tray.state is TrayState.OFFLINE
    app._on_upload_event(progress(1, S.PAUSED_OFFLINE, online=False))
    assert app.tray.state is TrayState.OFFLINE and "Log out" in labels(app)
    assert app.tray.tooltip().endswith("Offline; uploads resume automatically")
    app._on_upload_event(change(1, S.PAUSED_OFFLINE, S.UPLOADING))
    app._on_upload_event(progress(1, S.UPLOADING, pct=70))
    assert app.tray.state is TrayState.UPLOADING and app.tray.tooltip().endswith("Uploading 70%")
    app._on_upload_event(change(1, S.FINALIZING, S.COMPLETED))
    assert app.tray.state is TrayState.IDLE


def test_token_refused_during_a_recording_shows_after_it(app):
    """While recording the picture is the recording's; the menu says Log in at once, the picture after the stop."""
    app.tray.set_state(TrayState.RECORDING, elapsed=12)  # what the recording flow sets when it starts
    app._on_upload_event(change(1, S.UPLOADING, S.AUTH_REQUIRED, "401"))
    app._on_upload_event(progress(1, S.AUTH_REQUIRED))
    assert app.tray.state is TrayState.RECORDING and "Log in" in labels(app)
    app.tray.set_state(TrayState.IDLE)  # what the recording flow sets when it ends
    assert app.tray.state is TrayState.NEEDS_LOGIN and "Log in" in labels(app)
