"""A small org.freedesktop.Notifications server for tests: answers Notify (honouring replaces_id),
GetCapabilities, GetServerInformation, CloseNotification, records every call, and can emit ActionInvoked.

A :class:`tests.dbus_service.BusService`: its own jeepney connection in a daemon thread. Signals are emitted from that
same thread (requests go through a queue), so the sender is the name owner exactly as with a real server.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from dataclasses import dataclass, field

from tests.dbus_service import BusService, unknown_method

BUS_NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
IFACE = "org.freedesktop.Notifications"


@dataclass
class NotifyCall:
    app_name: str
    replaces_id: int
    app_icon: str
    summary: str
    body: str
    actions: list
    hints: dict
    expire_timeout: int
    returned_id: int
    at: float = field(default_factory=time.monotonic)

    def hint(self, name):
        value = self.hints.get(name)
        # jeepney gives variants as (signature, value)
        return value[1] if isinstance(value, tuple) else value


class RecordingNotificationService(BusService):
    bus_name = BUS_NAME
    thread_name = "fake-notification-server"

    def __init__(self, capabilities=("actions", "body", "persistence")):
        super().__init__()
        self.capabilities = list(capabilities)
        self.calls: list[NotifyCall] = []
        self.closed: list[int] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._requests: queue.Queue = queue.Queue()

    # -- test helpers --------------------------------------------------------------------------------------
    def wait_for(self, predicate, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate(list(self.calls))
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met; calls: {[(c.returned_id, c.summary) for c in self.calls]}")
                self._changed.wait(remaining)

    def invoke_action(self, notification_id: int, key: str) -> None:
        self._requests.put(("ActionInvoked", "us", (notification_id, key)))

    def emit_closed(self, notification_id: int, reason: int = 2) -> None:
        self._requests.put(("NotificationClosed", "uu", (notification_id, reason)))

    # -- the service -------------------------------------------------------------------------------------
    def idle(self, conn) -> None:
        from jeepney import DBusAddress, new_signal

        emitter = DBusAddress(PATH, interface=IFACE)
        while True:
            try:
                member, sig, body = self._requests.get_nowait()
            except queue.Empty:
                return
            conn.send(new_signal(emitter, member, sig, body))

    def handle(self, conn, msg, member: str) -> None:
        from jeepney import DBusAddress, new_method_return, new_signal

        if member == "Notify":
            app, rid, icon, summary, body, actions, hints, expire = msg.body
            nid = rid if rid else next(self._ids)
            with self._changed:
                self.calls.append(NotifyCall(app, rid, icon, summary, body, list(actions), dict(hints),
                                             expire, nid))
                self._changed.notify_all()
            conn.send(new_method_return(msg, "u", (nid,)))
        elif member == "GetCapabilities":
            conn.send(new_method_return(msg, "as", (self.capabilities,)))
        elif member == "GetServerInformation":
            conn.send(new_method_return(msg, "ssss", ("recording-fake", "snaplark-tests", "1", "1.2")))
        elif member == "CloseNotification":
            (nid,) = msg.body
            with self._changed:
                self.closed.append(nid)
                self._changed.notify_all()
            conn.send(new_method_return(msg))
            conn.send(new_signal(DBusAddress(PATH, interface=IFACE), "NotificationClosed", "uu", (nid, 3)))
        else:
            unknown_method(conn, msg, member)
