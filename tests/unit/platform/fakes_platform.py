"""Recording fakes at the OS edge for notifier tests."""

from __future__ import annotations

import itertools


class RecordingNotifier:
    """In-memory Notifier with configurable capabilities; records every call."""

    def __init__(self, capabilities=("update_in_place", "progress", "actions", "urgency")):
        self.capabilities = frozenset(capabilities)
        self.calls: list[tuple] = []
        self._ids = itertools.count(100)
        self.actions: dict[int, dict] = {}

    def notify(self, title, body, *, actions=None, replaces=None, urgency="normal"):
        nid = replaces or next(self._ids)
        self.calls.append(("notify", title, body, replaces, urgency, sorted(actions or {})))
        if actions:
            self.actions[nid] = actions
        return nid

    def progress(self, title, body, percent, *, replaces=None):
        nid = replaces or next(self._ids)
        self.calls.append(("progress", title, body, replaces, percent))
        return nid

    def close(self, notification_id):
        self.calls.append(("close", notification_id))


class FakeClock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t

    def advance(self, dt):
        self.t += dt


class FakeRunner:
    """subprocess.run stand-in: records argv/kwargs, returns a completed-process-like object."""

    def __init__(self, returncode=0, stderr=""):
        self.calls = []
        self.returncode = returncode
        self.stderr = stderr

    def __call__(self, argv, **kwargs):
        self.calls.append((list(argv), kwargs))
        return type("Completed", (), {"returncode": self.returncode, "stderr": self.stderr, "stdout": ""})()
