"""A small ``org.freedesktop.FileManager1`` for tests (:class:`tests.dbus_service.BusService`): answers
``ShowItems``, ``ShowFolders`` and ``ShowItemProperties`` and records each call ``(member, uris, startup_id)``;
``refuse=True`` makes them answer with a D-Bus error instead."""

from __future__ import annotations

import threading
import time

from tests.dbus_service import BusService, unknown_method

BUS_NAME = "org.freedesktop.FileManager1"


class RecordingFileManager(BusService):
    bus_name = BUS_NAME
    thread_name = "fake-file-manager"

    def __init__(self, *, refuse: bool = False):
        super().__init__()
        self.refuse = refuse
        self.calls: list[tuple[str, list[str], str]] = []
        self._changed = threading.Condition()

    def wait_for_call(self, timeout: float = 5.0) -> tuple[str, list[str], str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self.calls:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the file manager was not called")
                self._changed.wait(remaining)
            return self.calls[0]

    def handle(self, conn, msg, member: str) -> None:
        from jeepney import new_error, new_method_return

        if member not in ("ShowItems", "ShowFolders", "ShowItemProperties"):
            unknown_method(conn, msg, member)
        elif self.refuse:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", ("refused",)))
        else:
            uris, startup_id = msg.body
            with self._changed:
                self.calls.append((member, list(uris), startup_id))
                self._changed.notify_all()
            conn.send(new_method_return(msg))
