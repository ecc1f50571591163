"""Show a file selected in the desktop's file manager: ``org.freedesktop.FileManager1.ShowItems`` on the session bus
(jeepney, pure Python), the interface Nautilus, Dolphin, Nemo, Caja, Thunar and PCManFM-Qt implement.

``ShowItems(uris: as, startup_id: s)`` opens the folder of each ``file://`` URI with that item selected. When no
process owns ``org.freedesktop.FileManager1`` and none is activatable (a bare window manager, no session bus),
:meth:`FileManagerReveal.reveal` returns False and the caller opens the folder instead (``xdg-open``), as before.

Threading: blocking (one short D-Bus round trip, bounded by ``timeout``); call it off the UI thread. Each call opens
and closes its own connection, so an instance holds no OS resources and may be used from any thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.FileManager1"
OBJECT_PATH = "/org/freedesktop/FileManager1"
INTERFACE = "org.freedesktop.FileManager1"


class FileManagerReveal:
    name = "linux-filemanager1"

    def __init__(self, *, bus: str = "SESSION", timeout: float = 5.0) -> None:
        self.bus = bus
        self.timeout = timeout

    def reveal(self, path: Path, startup_id: str = "") -> bool:
        """Ask the file manager to show ``path`` selected; True once it accepted (False: nobody to ask, or it
        answered with an error -- both logged)."""
        from jeepney import DBusAddress, MessageType, new_method_call  # lazy: OS library
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        uri = Path(path).absolute().as_uri()
        try:
            conn = open_dbus_connection(self.bus)
        except Exception as exc:  # noqa: BLE001 - no bus address, socket refused, auth failure
            log.info("no session bus for %s (%s): opening the folder instead", BUS_NAME, exc)
            return False
        try:
            (owned,) = conn.send_and_get_reply(message_bus.NameHasOwner(BUS_NAME), timeout=self.timeout).body
            if not owned:
                (activatable,) = conn.send_and_get_reply(message_bus.ListActivatableNames(),
                                                         timeout=self.timeout).body
                if BUS_NAME not in activatable:
                    log.info("no file manager owns %s: opening the folder instead", BUS_NAME)
                    return False
            call = new_method_call(DBusAddress(OBJECT_PATH, BUS_NAME, INTERFACE), "ShowItems", "ass",
                                   ([uri], startup_id))
            reply = conn.send_and_get_reply(call, timeout=self.timeout)
            if reply.header.message_type == MessageType.error:
                log.warning("%s.ShowItems refused %s: %s", INTERFACE, uri, reply.body)
                return False
            return True
        except Exception as exc:  # noqa: BLE001 - a file manager that does not answer: the folder is the fallback
            log.warning("%s.ShowItems(%s) failed: %s", INTERFACE, uri, exc)
            return False
        finally:
            conn.close()


def create(**kwargs: object) -> FileManagerReveal:
    return FileManagerReveal(**kwargs)  # type: ignore[arg-type]
