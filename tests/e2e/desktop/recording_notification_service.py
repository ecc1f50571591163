"""A small org.freedesktop.Notifications server for tests: answers Notify (honouring replaces_id),
GetCapabilities, GetServerInformation, CloseNotification, records every call, and can emit ActionInvoked.

Runs on its own jeepney blocking connection in a daemon thread. Signals are emitted from that same thread
(requests go through a queue), so the sender is the name owner exactly as with a real server.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from dataclasses import dataclass, field

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


class RecordingNotificationService:
    def __init__(self, capabilities=("actions", "body", "persistence")):
        self.capabilities = list(capabilities)
        self.calls: list[NotifyCall] = []
        self.closed: list[int] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._requests: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 5.0) -> "RecordingNotificationService":
        self._thread = threading.Thread(target=self._run, name="fake-notification-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("fake notification service did not start")
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5.0)

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

    # -- server loop ---------------------------------------------------------------------------------------
    def _run(self) -> None:
        from jeepney import DBusAddress, MessageType, new_error, new_method_return, new_signal
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            conn = open_dbus_connection("SESSION")
            reply = conn.send_and_get_reply(message_bus.RequestName(BUS_NAME, 4), timeout=5)  # DO_NOT_QUEUE
            if reply.body[0] != 1:
                raise RuntimeError(f"could not own {BUS_NAME}: RequestName -> {reply.body[0]}")
        except BaseException as exc:  # noqa: BLE001
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        emitter = DBusAddress(PATH, interface=IFACE)
        try:
            while not self._stop.is_set():
                while True:
                    try:
                        member, sig, body = self._requests.get_nowait()
                    except queue.Empty:
                        break
                    conn.send(new_signal(emitter, member, sig, body))
                try:
                    msg = conn.receive(timeout=0.05)
                except TimeoutError:
                    continue
                hdr = msg.header
                if hdr.message_type != MessageType.method_call:
                    continue
                member = hdr.fields.get(_F.member)
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
                    conn.send(new_signal(emitter, "NotificationClosed", "uu", (nid, 3)))
                else:
                    conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),)))
        finally:
            conn.close()


class _F:
    from jeepney.low_level import HeaderFields

    member = HeaderFields.member
