"""Contract tests: every notifier adapter behaves the same way behind the Notifier protocol.
The OS call (osascript process, WinRT toaster, plyer) is replaced by a fake; the adapter logic is real."""

from __future__ import annotations

import pytest

from fakes_platform import FakeRunner
from tray_platform.base import Notifier
from tray_platform.fallback.notify import LogNotifier, PlyerNotifier
from tray_platform.macos.notify import OsaScriptNotifier
from tray_platform.windows.notify import WindowsToastNotifier


class FakeToastBackend:
    def __init__(self, supports_update=True, supports_actions=True):
        self.supports_update = supports_update
        self.supports_actions = supports_actions
        self.events = []
        self.on_button = {}

    def show(self, tag, title, body, *, percent, buttons, on_button, critical):
        self.events.append(("show", tag, title, body, percent, [k for k, _ in buttons], critical))
        if on_button:
            self.on_button[tag] = on_button

    def update(self, tag, title, body, percent):
        self.events.append(("update", tag, title, body, percent))

    def hide(self, tag):
        self.events.append(("hide", tag))


def make(kind):
    if kind == "macos":
        runner = FakeRunner()
        return OsaScriptNotifier(runner=runner), runner
    if kind == "windows":
        backend = FakeToastBackend()
        return WindowsToastNotifier(backend), backend
    if kind == "windows-winotify":
        backend = FakeToastBackend(supports_update=False, supports_actions=False)
        return WindowsToastNotifier(backend), backend
    if kind == "plyer":
        sent = []
        return PlyerNotifier(send=lambda **kw: sent.append(kw)), sent
    if kind == "log":
        n = LogNotifier()
        return n, n.recent
    raise AssertionError(kind)


def emitted(n, sink) -> int:
    """How many things reached the OS edge so far."""
    if isinstance(n, LogNotifier):
        return len(n.recent)
    if isinstance(sink, FakeToastBackend):
        return len(sink.events)
    if isinstance(sink, FakeRunner):
        return len(sink.calls)
    return len(sink)


KINDS = ["macos", "windows", "windows-winotify", "plyer", "log"]


@pytest.mark.parametrize("kind", KINDS)
def test_protocol_shape_and_ids(kind):
    n, _ = make(kind)
    assert isinstance(n, Notifier)
    assert isinstance(n.capabilities, frozenset)
    a = n.notify("T", "B")
    b = n.notify("T", "B")
    assert isinstance(a, int) and a > 0 and a != b
    n.close(a)


@pytest.mark.parametrize("kind", KINDS)
def test_progress_replaces_returns_same_id(kind):
    n, _ = make(kind)
    first = n.progress("Uploading", "x", 10)
    again = n.progress("Uploading", "x", 60, replaces=first)
    assert again == first


@pytest.mark.parametrize("kind", KINDS)
def test_capability_update_in_place_is_honest(kind):
    """A backend that claims update_in_place must emit an update for every progress call; one that does not
    must not emit anything for replacing progress calls (no stacked bubbles)."""
    n, sink = make(kind)
    first = n.progress("Uploading", "x", 10)
    before = emitted(n, sink)
    n.progress("Uploading", "x", 60, replaces=first)
    after = emitted(n, sink)
    if "update_in_place" in n.capabilities:
        assert after == before + 1
    else:
        assert after == before


def test_macos_passes_text_as_argv_not_script():
    n, runner = make("macos")
    n.notify('Say "hi" \\ ', "link: http://x/'a'", urgency="critical")
    argv, kwargs = runner.calls[0]
    assert argv[0] == "osascript"
    script = " ".join(argv[1:-3])
    assert "hi" not in script and "http" not in script  # nothing user-supplied inside the AppleScript
    assert argv[-3:] == ['Say "hi" \\ ', "link: http://x/'a'", "Action needed"]
    assert kwargs["timeout"] > 0 and kwargs["check"] is False


def test_macos_failure_is_logged_not_raised(caplog):
    n = OsaScriptNotifier(runner=FakeRunner(returncode=1, stderr="not authorised"))
    n.notify("T", "B")
    assert "not authorised" in caplog.text


def test_windows_progress_updates_in_place_and_final_replaces_with_action():
    n, backend = make("windows")
    nid = n.progress("Uploading", "10%", 10)
    n.progress("Uploading", "50%", 50, replaces=nid)
    clicked = []
    assert n.notify("Upload complete", "http://x/1", actions={"copy": lambda: clicked.append(1)},
                    replaces=nid) == nid
    kinds = [e[0] for e in backend.events]
    assert kinds == ["show", "update", "show"]
    assert backend.events[0][4] == 10 and backend.events[1][4] == 50
    assert backend.events[2][1] == backend.events[0][1]  # same tag = same toast replaced
    assert backend.events[2][5] == ["copy"]
    backend.on_button[backend.events[2][1]]("copy")
    assert clicked == [1]
    assert "actions" in n.capabilities


def test_windows_winotify_has_no_actions_or_update():
    n, backend = make("windows-winotify")
    assert n.capabilities == frozenset()
    n.notify("Done", "http://x", actions={"copy": lambda: None})
    assert backend.events[0][5] == []


def test_windows_critical_flag():
    n, backend = make("windows")
    n.notify("Upload failed", "why", urgency="critical")
    assert backend.events[-1][6] is True


def test_plyer_sends_title_and_message():
    n, sent = make("plyer")
    n.notify("Hello", "World")
    assert sent[0]["title"] == "Hello" and sent[0]["message"] == "World" and sent[0]["app_name"] == "Snaplark"
