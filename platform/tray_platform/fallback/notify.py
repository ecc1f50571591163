"""Fallback notifiers: plyer (any OS, no update in place, no actions) and log-only (last resort).

Neither can update a notification in place, so their ``capabilities`` omit ``update_in_place``/``progress``
/``actions``; ``ProgressNotifier`` reads that and only shows start / finish / error messages instead of a bar.
Threading: stateless apart from an id counter under a lock; callable from any thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)


class PlyerNotifier:
    name = "plyer"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, *, app_name: str = "Snaplark", app_icon: str = "", timeout: int = 10,
                 send: Callable[..., Any] | None = None) -> None:
        self.app_name = app_name
        self.app_icon = app_icon
        self.timeout = timeout
        self._send = send  # injected for tests; default plyer.notification.notify (lazy)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _sender(self) -> Callable[..., Any]:
        if self._send is None:
            from plyer import notification

            self._send = notification.notify
        return self._send

    def notify(self, title: str, body: str, *, actions: dict[str, Callable[[], None]] | None = None,
               replaces: int | None = None, urgency: str = "normal", timeout: float | None = None) -> int:
        self._sender()(title=title, message=body, app_name=self.app_name, app_icon=self.app_icon,
                       timeout=max(1, round(timeout)) if timeout is not None else self.timeout)
        with self._lock:
            return next(self._ids)

    def progress(self, title: str, body: str, percent: int | None, *, replaces: int | None = None) -> int:
        # No update in place: re-posting would stack a new bubble per update. Keep the id, show nothing new.
        if replaces:
            return replaces
        return self.notify(title, _with_percent(body, percent))

    def close(self, notification_id: int) -> None:
        return None


class LogNotifier:
    """Last resort: writes notifications to the log (and keeps the last ones for ``snaplark status``)."""

    name = "log"
    capabilities: frozenset[str] = frozenset({"update_in_place", "progress"})

    def __init__(self, *, keep: int = 50) -> None:
        self.keep = keep
        self.recent: list[tuple[int, str, str]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def notify(self, title: str, body: str, *, actions: dict[str, Callable[[], None]] | None = None,
               replaces: int | None = None, urgency: str = "normal", timeout: float | None = None) -> int:
        level = logging.WARNING if urgency == "critical" else logging.INFO
        log.log(level, "notification: %s: %s", title, body)
        with self._lock:
            nid = replaces or next(self._ids)
            self.recent = (self.recent + [(nid, title, body)])[-self.keep:]
        return nid

    def progress(self, title: str, body: str, percent: int | None, *, replaces: int | None = None) -> int:
        return self.notify(title, _with_percent(body, percent), replaces=replaces)

    def close(self, notification_id: int) -> None:
        return None


def _plyer_usable() -> str | None:
    """Return None if plyer has a real notification backend here, else why not."""
    import warnings

    try:
        from plyer import notification
        from plyer.facades import Notification

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            impl = object.__getattribute__(notification, "_ensure_obj")()
    except Exception as exc:  # noqa: BLE001
        return f"plyer import failed: {exc}"
    if impl is None:
        return "plyer has no notification backend on this platform"
    if type(impl) is Notification:  # plyer's facade itself = "not implemented"
        return "plyer found no notification tool (notify-send / dbus-python)"
    return None


def create(**kwargs: Any) -> PlyerNotifier:
    why = _plyer_usable()
    if why:
        raise RuntimeError(why)
    return PlyerNotifier(**kwargs)


def create_log(**kwargs: Any) -> LogNotifier:
    return LogNotifier()


def _with_percent(body: str, percent: int | None) -> str:
    return body if percent is None else f"{body} ({int(percent)}%)"
