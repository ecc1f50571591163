"""macOS notifications through ``osascript`` (``display notification``).

Notification Center offers no update in place, progress bar or actions to scripts, so ``capabilities`` is empty:
``ProgressNotifier`` then shows only start / finish / error messages. Text is passed as ``argv`` to an AppleScript
``on run`` handler, never spliced into the script, so quotes or backslashes in titles cannot break or inject.
Threading: stateless apart from an id counter under a lock; callable from any thread.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import subprocess
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

SCRIPT = [
    "on run argv",
    "display notification (item 2 of argv) with title (item 1 of argv) subtitle (item 3 of argv)",
    "end run",
]

Runner = Callable[..., Any]  # subprocess.run-compatible


class OsaScriptNotifier:
    name = "macos-osascript"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, *, app_name: str = "Snaplark", runner: Runner = subprocess.run, timeout: float = 5.0,
                 **_: Any) -> None:
        self.app_name = app_name
        self._run = runner
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def argv(self, title: str, body: str, subtitle: str = "") -> list[str]:
        cmd = ["osascript"]
        for line in SCRIPT:
            cmd += ["-e", line]
        return cmd + [title, body, subtitle]

    def notify(self, title: str, body: str, *, actions: dict[str, Callable[[], None]] | None = None,
               replaces: int | None = None, urgency: str = "normal", timeout: float | None = None) -> int:
        subtitle = "Action needed" if urgency == "critical" else ""
        result = self._run(self.argv(title, body, subtitle), capture_output=True, text=True, timeout=self.timeout,
                           check=False)
        if getattr(result, "returncode", 0) != 0:
            log.warning("osascript notification failed (%s): %s", result.returncode,
                        (getattr(result, "stderr", "") or "").strip())
        with self._lock:
            return next(self._ids)

    def progress(self, title: str, body: str, percent: int | None, *, replaces: int | None = None) -> int:
        if replaces:  # cannot update in place; a new banner per update would spam Notification Center
            return replaces
        return self.notify(title, _with_percent(body, percent))

    def close(self, notification_id: int) -> None:
        return None


def create(*, runner: Runner = subprocess.run, **kwargs: Any) -> OsaScriptNotifier:
    if runner is subprocess.run and shutil.which("osascript") is None:
        raise RuntimeError("osascript not found")
    return OsaScriptNotifier(runner=runner, **kwargs)


def _with_percent(body: str, percent: int | None) -> str:
    return body if percent is None else f"{body} ({int(percent)}%)"
