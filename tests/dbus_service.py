"""A D-Bus service of a test's own: owns one well-known name on the session bus (``DBUS_SESSION_BUS_ADDRESS``) and
answers method calls on its own jeepney blocking connection in a daemon thread. A subclass says what a call does
(``handle(conn, msg, member)``) and may send what it queued between receives (``idle(conn)``: signals go out from
the owner's connection, exactly as with a real service). ``stop`` closes the connection, which releases the name.
"""

from __future__ import annotations

import threading
from typing import Any


class BusService:
    bus_name = ""
    thread_name = "test-dbus-service"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 5.0):
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{self.bus_name} service did not start")
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5.0)

    def idle(self, conn: Any) -> None:
        """Between receives (every 50 ms at most): send what was queued."""

    def handle(self, conn: Any, msg: Any, member: str) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        from jeepney import MessageType
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.low_level import HeaderFields

        try:
            conn = open_dbus_connection("SESSION")
            reply = conn.send_and_get_reply(message_bus.RequestName(self.bus_name, 4), timeout=5)  # DO_NOT_QUEUE
            if reply.body[0] != 1:
                raise RuntimeError(f"could not own {self.bus_name}: RequestName -> {reply.body[0]}")
        except BaseException as exc:  # noqa: BLE001 - raised by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                self.idle(conn)
                try:
                    msg = conn.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if msg.header.message_type == MessageType.method_call:
                    self.handle(conn, msg, str(msg.header.fields.get(HeaderFields.member)))
        finally:
            conn.close()


def unknown_method(conn: Any, msg: Any, member: str) -> None:
    from jeepney import new_error

    conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,)))
