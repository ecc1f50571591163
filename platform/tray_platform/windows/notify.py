"""Windows toast notifications.

Preferred: ``windows-toasts`` (WinRT) -- progress bar updated in place (same toast tag, ``update_toast``) and
buttons ("Copy link"). Else ``winotify`` (toasts with launch-URL buttons only; no update in place).
``create()`` picks the first importable one; plyer (balloon tips) is the generic fallback via ``choose_backend``.

The WinRT / winotify calls sit behind a small ``ToastBackend`` interface (show / update / hide) so the adapter's
logic is contract-tested on any OS with a fake backend.
Threading: calls are serialised by a lock; WinRT activation callbacks arrive on a WinRT thread pool thread and are
forwarded to the action callbacks unchanged (they must only post work to the UI dispatcher).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Callable, Protocol

ACTION_LABELS = {"copy": "Copy link", "open": "Open", "retry": "Retry", "login": "Log in"}
INDETERMINATE = -1  # a progress bar with no known end (WinRT's "indeterminate" value: a moving animation)


class ToastBackend(Protocol):
    supports_update: bool
    supports_actions: bool

    def show(self, tag: str, title: str, body: str, *, percent: int | None, buttons: list[tuple[str, str]],
             on_button: Callable[[str], None] | None, critical: bool) -> None: ...
    def update(self, tag: str, title: str, body: str, percent: int) -> None: ...  # percent may be INDETERMINATE
    def hide(self, tag: str) -> None: ...


class WindowsToastNotifier:
    name = "windows-toast"

    def __init__(self, backend: ToastBackend, *, app_name: str = "Snaplark", **_: Any) -> None:
        self.backend = backend
        self.app_name = app_name
        caps = set()
        if backend.supports_update:
            caps |= {"update_in_place", "progress"}
        if backend.supports_actions:
            caps.add("actions")
        self.capabilities = frozenset(caps)
        self._ids = itertools.count(1)
        self._shown_progress: set[int] = set()
        self._lock = threading.Lock()

    def _tag(self, nid: int) -> str:
        return f"snaplark-{nid}"

    def notify(self, title: str, body: str, *, actions: dict[str, Callable[[], None]] | None = None,
               replaces: int | None = None, urgency: str = "normal", timeout: float | None = None) -> int:
        with self._lock:
            nid = replaces if (replaces and self.backend.supports_update) else next(self._ids)
            buttons = [(key, ACTION_LABELS.get(key, key)) for key in (actions or {})]
            callbacks = dict(actions or {})

            def on_button(key: str) -> None:
                cb = callbacks.get(key)
                if cb:
                    cb()

            self._shown_progress.discard(nid)
            self.backend.show(self._tag(nid), title, body, percent=None,
                              buttons=buttons if self.backend.supports_actions else [],
                              on_button=on_button if buttons else None, critical=urgency == "critical")
            return nid

    def progress(self, title: str, body: str, percent: int | None, *, replaces: int | None = None) -> int:
        percent = INDETERMINATE if percent is None else max(0, min(100, int(percent)))
        with self._lock:
            if replaces and not self.backend.supports_update:
                return replaces  # no bar, no update: do not stack toasts
            if replaces and replaces in self._shown_progress:
                self.backend.update(self._tag(replaces), title, body, percent)
                return replaces
            nid = replaces or next(self._ids)
            self.backend.show(self._tag(nid), title, body, percent=percent, buttons=[], on_button=None,
                              critical=False)
            if self.backend.supports_update:
                self._shown_progress.add(nid)
            return nid

    def close(self, notification_id: int) -> None:
        with self._lock:
            self._shown_progress.discard(notification_id)
            self.backend.hide(self._tag(notification_id))


class WindowsToastsBackend:  # pragma: no cover - needs Windows 10+ WinRT
    supports_update = True
    supports_actions = True

    def __init__(self, app_name: str) -> None:
        import windows_toasts as wt

        self.wt = wt
        self.toaster = wt.InteractableWindowsToaster(app_name)
        self.toasts: dict[str, Any] = {}

    def show(self, tag, title, body, *, percent, buttons, on_button, critical):
        wt = self.wt
        toast = wt.Toast([title, body])
        toast.tag = tag
        if percent is not None:
            toast.progress_bar = wt.ToastProgressBar(status=body, progress=_bar_value(percent),
                                                     progress_override=_bar_text(percent))
        for key, label in buttons:
            toast.AddAction(wt.ToastButton(label, key))
        if on_button:
            toast.on_activated = lambda args: on_button(args.arguments)
        if critical:
            toast.scenario = wt.ToastScenario.Important
        self.toasts[tag] = toast
        self.toaster.show_toast(toast)

    def update(self, tag, title, body, percent):
        toast = self.toasts.get(tag)
        if toast is None or toast.progress_bar is None:
            return
        toast.progress_bar.progress = _bar_value(percent)
        toast.progress_bar.progress_override = _bar_text(percent)
        toast.progress_bar.status = body
        self.toaster.update_toast(toast)

    def hide(self, tag):
        toast = self.toasts.pop(tag, None)
        remove = getattr(self.toaster, "remove_toast", None)  # windows-toasts >= 1.1; older: leave it to expire
        if toast is not None and remove is not None:
            remove(toast)


class WinotifyBackend:  # pragma: no cover - needs Windows
    supports_update = False
    supports_actions = False  # winotify buttons only launch URLs; no callback into the app

    def __init__(self, app_name: str) -> None:
        import winotify

        self.winotify = winotify
        self.app_name = app_name

    def show(self, tag, title, body, *, percent, buttons, on_button, critical):
        text = body if percent is None or percent == INDETERMINATE else f"{body} ({percent}%)"
        toast = self.winotify.Notification(app_id=self.app_name, title=title, msg=text)
        toast.show()

    def update(self, tag, title, body, percent):
        return None

    def hide(self, tag):
        return None


def _bar_value(percent: int) -> float | None:
    return None if percent == INDETERMINATE else percent / 100  # windows-toasts: None = indeterminate


def _bar_text(percent: int) -> str:
    return "" if percent == INDETERMINATE else f"{percent}%"


def create(*, app_name: str = "Snaplark", backend: ToastBackend | None = None, **kwargs: Any) -> WindowsToastNotifier:
    if backend is None:
        errors = []
        for cls in (WindowsToastsBackend, WinotifyBackend):
            try:
                backend = cls(app_name)
                break
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{cls.__name__}: {type(exc).__name__}: {exc}")
        else:
            raise RuntimeError("no toast library: " + "; ".join(errors))
    return WindowsToastNotifier(backend, app_name=app_name)
