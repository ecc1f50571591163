"""Linux notifications over D-Bus ``org.freedesktop.Notifications`` (jeepney, pure Python).

One notification is updated in place by passing its id back as ``replaces_id``; progress uses the ``value``
hint (int 0..100, shown as a bar by GNOME/dunst/...) plus ``x-canonical-private-synchronous`` so
notify-osd style servers also replace rather than stack. Actions ("copy" -> "Copy link") are delivered by the
server as ``ActionInvoked`` signals, which a listener thread turns into callback calls.

Bodies are plain text for callers. A server that advertises ``body-markup`` (``GetCapabilities``) parses the body
as a small HTML subset, so there ``&``, ``<`` and ``>`` are escaped (otherwise ``<ctrl>+<alt>+a`` shows as ``++a``);
other servers get the text unchanged. Summaries are never markup (the specification says so).

Threading: all public methods may be called from any thread (jeepney's threading router serialises sends and
matches replies). Action callbacks run on the listener thread ``snaplark-notify-actions``; they must be quick and
should only post work to the UI dispatcher.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"

_URGENCY = {"low": 0, "normal": 1, "critical": 2}
ACTION_LABELS = {"copy": "Copy link", "open": "Open", "default": "Open", "retry": "Retry", "login": "Log in"}


class NotificationServiceMissing(RuntimeError):
    """No process owns org.freedesktop.Notifications on the session bus (or the bus itself is missing)."""


class DBusNotifier:
    """``Notifier`` over the session bus. Construct, then ``open()`` (``create()`` does both)."""

    name = "linux-dbus"

    def __init__(self, *, app_name: str = "Snaplark", app_icon: str = "", bus: str = "SESSION",
                 call_timeout: float = 3.0, expire_timeout_ms: int = -1,
                 sync_tag: str = "snaplark-upload") -> None:
        self.app_name = app_name
        self.app_icon = app_icon
        self.bus = bus
        self.call_timeout = call_timeout
        self.expire_timeout_ms = expire_timeout_ms
        self.sync_tag = sync_tag
        self.capabilities: frozenset[str] = frozenset()
        self.server_capabilities: frozenset[str] = frozenset()
        self._conn: Any = None
        self._router: Any = None
        self._filter: Any = None
        self._signals: queue.Queue | None = None
        self._listener: threading.Thread | None = None
        self._actions: dict[int, dict[str, Callable[[], None]]] = {}
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------------
    def open(self) -> "DBusNotifier":
        from jeepney import MatchRule  # lazy: OS library
        from jeepney.bus_messages import message_bus
        from jeepney.io.threading import DBusRouter, Proxy, open_dbus_connection

        try:
            self._conn = open_dbus_connection(self.bus)
        except Exception as exc:  # no bus address, socket refused, auth failure
            raise NotificationServiceMissing(f"cannot connect to the session D-Bus: {exc}") from exc
        self._router = DBusRouter(self._conn)
        try:
            bus_proxy = Proxy(message_bus, self._router, timeout=self.call_timeout)
            (has_owner,) = bus_proxy.NameHasOwner(BUS_NAME)
            if not has_owner:
                # Activatable services (dunst's .service file, ...) start on the first call; try that once.
                (activatable,) = bus_proxy.ListActivatableNames()
                if BUS_NAME not in activatable:
                    raise NotificationServiceMissing(f"no notification service ({BUS_NAME}) on the session bus")
            (caps,) = self._call("GetCapabilities", "", ())
            self.server_capabilities = frozenset(caps)
            mine = {"update_in_place", "urgency"}
            if "actions" in self.server_capabilities:
                mine.add("actions")
            # The value hint is widely honoured even when not advertised (dunst advertises nothing for it).
            mine.add("progress")
            if "body-markup" in self.server_capabilities:
                mine.add("markup")
            self.capabilities = frozenset(mine)

            rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
            bus_proxy.AddMatch(rule)
            self._signals = queue.Queue()
            self._filter = self._router.filter(rule, queue=self._signals)
        except NotificationServiceMissing:
            self.close_connection()
            raise
        except Exception as exc:
            self.close_connection()
            raise NotificationServiceMissing(f"notification service not answering: {exc}") from exc
        self._listener = threading.Thread(target=self._listen, name="snaplark-notify-actions", daemon=True)
        self._listener.start()
        return self

    def close_connection(self) -> None:
        """Stop the listener thread and close the bus connection (bounded waits)."""
        if self._signals is not None:
            self._signals.put(None)
        if self._listener is not None:
            self._listener.join(timeout=2.0)
            self._listener = None
        if self._filter is not None:
            try:
                self._filter.close()
            except Exception:  # noqa: BLE001
                pass
            self._filter = None
        if self._router is not None:
            try:
                self._router.close()
            except Exception:  # noqa: BLE001
                pass
            self._router = None
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None

    # -- Notifier protocol ---------------------------------------------------------------------------------
    def notify(self, title: str, body: str, *, actions: dict[str, Callable[[], None]] | None = None,
               replaces: int | None = None, urgency: str = "normal", timeout: float | None = None) -> int:
        """``timeout`` (seconds): the server closes it then; None: critical ones stay until dismissed, others
        use the server's default (``expire_timeout_ms``)."""
        hints: dict[str, tuple[str, Any]] = {"urgency": ("y", _URGENCY.get(urgency, 1))}
        if replaces:
            hints["x-canonical-private-synchronous"] = ("s", self.sync_tag)
        if timeout is not None:
            expire = max(1, int(timeout * 1000))
        else:
            expire = 0 if urgency == "critical" else self.expire_timeout_ms
        return self._notify(title, body, hints, actions or {}, replaces, expire=expire)

    def progress(self, title: str, body: str, percent: int | None, *, replaces: int | None = None) -> int:
        """``percent`` None: no bar (something is going on, but not toward a known end: a recording)."""
        hints: dict[str, tuple[str, Any]] = {}
        if percent is not None:
            hints["value"] = ("i", max(0, min(100, int(percent))))
        hints.update({
            "x-canonical-private-synchronous": ("s", self.sync_tag),
            "urgency": ("y", _URGENCY["low"]),
            # GNOME: keep it out of the message tray history while it is just a progress bar
            "transient": ("b", True),
        })
        return self._notify(title, body, hints, {}, replaces, expire=0)

    def close(self, notification_id: int) -> None:
        with self._lock:
            self._actions.pop(int(notification_id), None)
        try:
            self._call("CloseNotification", "u", (int(notification_id),))
        except Exception as exc:  # noqa: BLE001 - closing an already-gone notification is not an error
            log.debug("CloseNotification(%s) failed: %s", notification_id, exc)

    # -- internals -----------------------------------------------------------------------------------------
    def _notify(self, title: str, body: str, hints: dict, actions: dict[str, Callable[[], None]],
                replaces: int | None, *, expire: int) -> int:
        action_list: list[str] = []
        if actions and "actions" in self.capabilities:
            for key in actions:
                action_list += [key, ACTION_LABELS.get(key, key.replace("_", " ").capitalize())]
            if "default" not in actions and len(actions) == 1:
                # clicking the notification itself does the one action (servers send "default" only if listed)
                action_list += ["default", ""]
        if "body-markup" in self.server_capabilities:
            body = html.escape(body, quote=False)  # & < > only: the markup subset has no attribute context here
        (nid,) = self._call("Notify", "susssasa{sv}i", (
            self.app_name, int(replaces or 0), self.app_icon, title, body, action_list, hints, int(expire)))
        nid = int(nid)
        with self._lock:
            if replaces and int(replaces) != nid:
                self._actions.pop(int(replaces), None)
            if actions:
                self._actions[nid] = dict(actions)
            else:
                self._actions.pop(nid, None)
        return nid

    def _call(self, method: str, signature: str, body: tuple) -> tuple:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        if self._router is None:
            raise NotificationServiceMissing("DBusNotifier is not open")
        addr = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)
        msg = new_method_call(addr, method, signature, body)
        reply = self._router.send_and_get_reply(msg, timeout=self.call_timeout)
        return unwrap_msg(reply)

    def _listen(self) -> None:
        assert self._signals is not None
        while True:
            msg = self._signals.get()
            if msg is None:
                return
            member = msg.header.fields.get(_member_field())
            try:
                if member == "ActionInvoked":
                    nid, key = msg.body
                    with self._lock:
                        callback = self._actions.get(int(nid), {}).get(key)
                    if callback is None and key == "default":
                        with self._lock:
                            cbs = self._actions.get(int(nid), {})
                        callback = cbs.get("open") or (next(iter(cbs.values())) if len(cbs) == 1 else None)
                    if callback is not None:
                        callback()
                    else:
                        log.debug("ActionInvoked %s/%s: no callback", nid, key)
                elif member == "NotificationClosed":
                    nid = int(msg.body[0])
                    with self._lock:
                        self._actions.pop(nid, None)
            except Exception:  # noqa: BLE001 - a bad callback must not kill the listener
                log.exception("notification action callback failed")


def _member_field():
    from jeepney.low_level import HeaderFields

    return HeaderFields.member


def create(**kwargs: Any) -> DBusNotifier:
    """Factory for ``choose_backend("notify")``: connects and raises ``NotificationServiceMissing`` if no server."""
    return DBusNotifier(**kwargs).open()
