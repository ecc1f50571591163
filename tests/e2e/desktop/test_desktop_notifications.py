"""Progress notifications over a real private session D-Bus, observed by a recording Notifications service."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from desktop_helpers import wait_until
from tray.ui.notifications import ProgressNotifier, open_notifier
from tray.upload.events import UploadProgress
from tray.upload.progress import ProgressSnapshot
from tray.upload.state import UploadState as S
from tray_platform.linux.notify import DBusNotifier, NotificationServiceMissing

pytestmark = pytest.mark.e2e


def progress(state=S.UPLOADING, **kw):
    """The engine's progress event of one (id-less) video upload."""
    return UploadProgress(None, ProgressSnapshot(upload_id=None, kind="video", state=state, **kw))


@pytest.fixture
def dbus_notifier(notification_service):
    n = DBusNotifier(call_timeout=3.0).open()
    yield n
    n.close_connection()


def test_progress_updates_one_notification_in_place(notification_service, dbus_notifier):
    clock_t = [0.0]
    p = ProgressNotifier(dbus_notifier, lambda: clock_t[0], copy_link=lambda u: None)
    for pct in range(0, 101, 5):
        p(progress(parts_uploaded=pct, parts_pending=100 - pct, bytes_sent=pct * 100_000, bytes_total=10_000_000,
                   rate=2_000_000, session_id="s"))
        clock_t[0] += 0.25  # events 4/s -> updates 2/s
    p(progress(S.COMPLETED, url="http://127.0.0.1:1/v/abc"))
    calls = notification_service.wait_for(lambda c: len(c) >= 2 and c[-1].summary == "Upload complete" and c)
    ids = {c.returned_id for c in calls}
    assert len(ids) == 1, f"expected one notification id, got {ids}"
    assert calls[0].replaces_id == 0 and all(c.replaces_id == calls[0].returned_id for c in calls[1:])
    values = [c.hint("value") for c in calls if c.hint("value") is not None]
    assert values == sorted(values) and values[0] == 0 and values[-1] == 100
    assert len(values) == 11  # 21 events over 5.25 s at <= 2/s
    assert all(c.hint("x-canonical-private-synchronous") == "snaplark-upload" for c in calls)
    assert calls[-1].actions == ["copy", "Copy link", "default", ""] and calls[-1].body == "http://127.0.0.1:1/v/abc"


def test_copy_link_action_puts_url_on_clipboard(notification_service, dbus_notifier, desktop_display):
    if subprocess.run(["which", "xclip"], capture_output=True).returncode:
        pytest.skip("xclip missing")
    from tray_platform.linux.clipboard import XclipClipboard

    clipboard = XclipClipboard()
    p = ProgressNotifier(dbus_notifier, time.monotonic, copy_link=clipboard.copy_text)
    url = "http://127.0.0.1:8765/s/Zz9-copy-me"
    p(progress(S.COMPLETED, url=url))
    call = notification_service.wait_for(lambda c: c and c[-1])
    notification_service.invoke_action(call.returned_id, "copy")
    got = wait_until(lambda: _clip() == url and url, 5, what="clipboard to hold the URL")
    assert got == url


def _clip() -> str:
    try:
        r = subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True, text=True, timeout=2)
    except subprocess.TimeoutExpired:  # the current owner did not answer (yet)
        return ""
    return r.stdout


def test_error_notifications_are_critical_and_replace(notification_service, dbus_notifier):
    p = ProgressNotifier(dbus_notifier, time.monotonic)
    p(progress(bytes_sent=30, bytes_total=100))
    p(progress(S.PAUSED_OFFLINE, bytes_sent=30, bytes_total=100, online=False))
    p(progress(S.AUTH_REQUIRED, bytes_sent=30, bytes_total=100))
    calls = notification_service.wait_for(lambda c: len(c) >= 3 and c)
    assert {c.returned_id for c in calls} == {calls[0].returned_id}
    assert "resume automatically" in calls[1].body and calls[1].hint("urgency") == 1
    assert "snaplark login" in calls[2].body and calls[2].hint("urgency") == 2 and calls[2].expire_timeout == 0


def test_notification_closed_signal_drops_actions_and_close_works(notification_service, dbus_notifier):
    nid = dbus_notifier.notify("x", "y", actions={"copy": lambda: None})
    dbus_notifier.close(nid)
    wait_until(lambda: nid in notification_service.closed, 5, what="CloseNotification")
    wait_until(lambda: nid not in dbus_notifier._actions, 5, what="actions dropped")


def test_no_service_on_bus_raises_missing_and_open_notifier_falls_back(notification_bus, monkeypatch):
    """The module's bus has no service activation: nobody owns org.freedesktop.Notifications here."""
    monkeypatch.delenv("SNAPLARK_NOTIFIER", raising=False)
    with pytest.raises(NotificationServiceMissing, match="no notification service"):
        DBusNotifier().open()
    told = []
    sel = open_notifier(tell_user=told.append)
    assert sel.backend == "fallback:create_log" and len(told) == 1
    ProgressNotifier(sel.notifier, time.monotonic)(progress(bytes_sent=10, bytes_total=100))  # no crash


def test_open_notifier_uses_dbus_when_service_present(notification_service, monkeypatch):
    monkeypatch.delenv("SNAPLARK_NOTIFIER", raising=False)
    sel = open_notifier(tell_user=lambda m: pytest.fail(m))
    try:
        assert sel.backend == "linux" and "update_in_place" in sel.notifier.capabilities
    finally:
        sel.notifier.close_connection()


def test_clicking_the_notification_body_does_its_single_action(notification_service, dbus_notifier):
    clicked = threading.Event()
    nid = dbus_notifier.notify("Upload complete", "http://x", actions={"copy": clicked.set})
    notification_service.invoke_action(nid, "default")
    assert clicked.wait(5)


def test_action_callback_exception_does_not_kill_listener(notification_service, dbus_notifier):
    ok = threading.Event()
    bad = dbus_notifier.notify("a", "b", actions={"copy": lambda: 1 / 0})
    good = dbus_notifier.notify("c", "d", actions={"copy": ok.set})
    notification_service.invoke_action(bad, "copy")
    notification_service.invoke_action(good, "copy")
    assert ok.wait(5)
