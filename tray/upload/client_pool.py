"""API clients kept between uploads, so the next upload reuses an open HTTP connection.

Each :class:`~tray.api.client.ApiClient` wraps a ``requests.Session``, whose connection pool keeps the TCP
connection open after a request (HTTP keep-alive). A worker used to make a client per upload and close it at the
end, so every screenshot paid for a new Session and a new connection (and the server for accepting it); now a
worker takes a client from :class:`ClientPool` and gives it back. :meth:`ClientPool.warm` opens a connection ahead
(``GET /health`` on a background thread) while the user is still choosing what to capture. A connection the server
closed meanwhile (idle timeout) is noticed by urllib3 before reuse and replaced.

Threading: every method may be called from any thread. A client is used by one thread at a time (ApiClient's
contract): it is either idle in the pool or held by exactly one worker.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)


class ClientPool:
    """Idle clients, at most ``keep`` of them (more workers at once make more; the extra ones are closed when given
    back). ``factory()`` makes a new client."""

    def __init__(self, factory: Callable[[], Any], *, keep: int = 2) -> None:
        self._factory = factory
        self.keep = keep
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._closed = False
        self.made = 0  # clients made so far

    def take(self) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.made += 1
        return self._factory()

    def give_back(self, client: Any) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.keep:
                self._idle.append(client)
                return
        client.close()

    def warm(self) -> threading.Thread | None:
        """Open a connection to the server ahead of an upload (on a background thread, returned); None when an
        idle client is already there (its connection is open, or is reopened at the upload) or the pool is
        closed."""
        with self._lock:
            if self._closed or self._idle:
                return None

        def run() -> None:
            client = self.take()
            try:
                client.probe()
            except Exception as exc:  # noqa: BLE001 - the upload itself will say what is wrong
                log.debug("warming the upload connection failed: %s", exc)
            finally:
                self.give_back(client)

        thread = threading.Thread(target=run, name="warm-upload-connection", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Close the idle clients; clients given back later are closed at once."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for client in idle:
            client.close()
