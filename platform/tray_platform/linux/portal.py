"""XDG desktop portal calls over the D-Bus session bus with jeepney (pure Python, no GLib main loop).

Most portal methods answer at once with the object path of a ``org.freedesktop.portal.Request`` and deliver the
real result later in that request's ``Response`` signal: ``(response: u, results: a{sv})`` with response 0 =
success, 1 = the user cancelled, 2 = ended another way (denied, failed). :meth:`PortalConnection.request` does the
dance the spec asks for to not miss a fast answer: it predicts the request path from our unique bus name and a
``handle_token`` it chooses (``/org/freedesktop/portal/desktop/request/SENDER/TOKEN``), subscribes to ``Response``
on that path *before* calling, then waits (bounded) for the signal. Should a (pre-0.9) portal return another path,
the filter is moved to that one.

Results are unwrapped from jeepney's ``(signature, value)`` variants into plain Python values.

Threading: a ``PortalConnection`` is one D-Bus connection and belongs to one thread; open one per thread that
needs the portals (they are cheap: one socket). File descriptors (``OpenPipeWireRemote``) need ``enable_fds``.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
REQUEST_INTERFACE = "org.freedesktop.portal.Request"
SESSION_INTERFACE = "org.freedesktop.portal.Session"
CALL_TIMEOUT = 10.0  # seconds for a method's immediate reply
RESPONSE_TIMEOUT = 30.0  # seconds for a Request's Response (non-interactive calls answer in well under a second)

RESPONSE_SUCCESS, RESPONSE_CANCELLED, RESPONSE_OTHER = 0, 1, 2


class PortalError(RuntimeError):
    """A portal call failed (a D-Bus error reply, or a Response other than success)."""


class PortalUnavailable(PortalError):
    """No session bus, no portal service on it, or the portal lacks the interface: a lasting condition."""


class PortalCancelled(PortalError):
    """The user (or the portal's policy) said no: Response 1 or 2."""


class PortalTimeout(PortalError):
    """No Response within the bound."""


def unwrap(value: Any) -> Any:
    """jeepney variants ``(signature, value)`` (nested in dicts/lists) -> plain values."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and _is_signature(value[0]):
        return unwrap(value[1])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unwrap(v) for v in value)
    return value


def _is_signature(s: str) -> bool:
    # a variant's signature is one complete type; good enough to tell it from a struct of two strings
    return bool(s) and all(c in "ybnqiuxtdsogavh(){}" for c in s)


class PortalConnection:
    """One session-bus connection to the portal frontend (see the module docstring for the threading contract).

    ``bus``: a D-Bus address (default: ``$DBUS_SESSION_BUS_ADDRESS``). The constructor does no I/O; the connection
    opens on first use."""

    def __init__(self, *, bus: str = "SESSION", enable_fds: bool = False,
                 response_timeout: float = RESPONSE_TIMEOUT) -> None:
        self._bus = bus
        self._enable_fds = enable_fds
        self.response_timeout = response_timeout
        self._conn: Any = None

    # -- connection -------------------------------------------------------------------------------------------
    def connection(self) -> Any:
        if self._conn is None:
            from jeepney.io.blocking import open_dbus_connection  # lazy: keeps `import tray_platform` light

            try:
                self._conn = open_dbus_connection(self._bus, enable_fds=self._enable_fds)
            except (KeyError, OSError, ConnectionError) as exc:
                what = "DBUS_SESSION_BUS_ADDRESS is not set" if isinstance(exc, KeyError) else str(exc)
                raise PortalUnavailable(f"no D-Bus session bus for the desktop portals ({what})") from exc
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "PortalConnection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- plain calls --------------------------------------------------------------------------------------------
    def call(self, interface: str, method: str, signature: str = "", body: tuple = (), *,
             path: str = OBJECT_PATH, bus_name: str = BUS_NAME, timeout: float = CALL_TIMEOUT) -> Any:
        """A method call; returns the reply body (a tuple); D-Bus errors become PortalError/PortalUnavailable."""
        from jeepney import DBusAddress, MessageType, new_method_call

        address = DBusAddress(path, bus_name=bus_name, interface=interface)
        try:
            reply = self.connection().send_and_get_reply(new_method_call(address, method, signature, body),
                                                         timeout=timeout)
        except TimeoutError as exc:
            raise PortalTimeout(f"{interface}.{method}: no reply within {timeout:g} s") from exc
        if reply.header.message_type == MessageType.error:
            name = reply.header.fields.get(4, "")  # HeaderFields.error_name
            text = f"{interface}.{method} failed: {name}: {reply.body[0] if reply.body else ''}"
            if name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.UnknownMethod",
                        "org.freedesktop.DBus.Error.UnknownInterface", "org.freedesktop.DBus.Error.UnknownObject"):
                raise PortalUnavailable(text)
            raise PortalError(text)
        return reply.body

    def version(self, interface: str) -> int | None:
        """The portal interface's ``version`` property, or None when the portal does not offer that interface."""
        try:
            body = self.call("org.freedesktop.DBus.Properties", "Get", "ss", (interface, "version"))
        except PortalUnavailable:
            return None
        except PortalError as exc:  # InvalidArgs / UnknownProperty: interface not exported
            log.debug("no %s: %s", interface, exc)
            return None
        return int(unwrap(body[0]))

    def interfaces(self) -> list[str]:
        """The portal interfaces the frontend exports on this session bus (from introspection)."""
        import xml.etree.ElementTree as ET

        xml = self.call("org.freedesktop.DBus.Introspectable", "Introspect")[0]
        return sorted(i.get("name", "") for i in ET.fromstring(xml).findall("interface")
                      if i.get("name", "").startswith("org.freedesktop.portal."))

    # -- Request/Response calls ------------------------------------------------------------------------------
    def new_token(self) -> str:
        return "snaplark_" + secrets.token_hex(8)

    def request_path(self, token: str) -> str:
        sender = self.connection().unique_name.lstrip(":").replace(".", "_")
        return f"{OBJECT_PATH}/request/{sender}/{token}"

    def request(self, interface: str, method: str, signature: str, body: tuple, *,
                timeout: float | None = None) -> dict[str, Any]:
        """Call a Request-returning method and wait for its Response.

        The method's options dict (the last argument, ``a{sv}``, jeepney variants) gets a fresh ``handle_token``.
        Returns the unwrapped results dict; raises PortalCancelled (response 1/2), PortalTimeout, PortalError."""
        from jeepney import MatchRule

        token = self.new_token()
        options = dict(body[-1])
        options["handle_token"] = ("s", token)
        body = (*body[:-1], options)
        conn = self.connection()
        expected = self.request_path(token)
        rule = MatchRule(type="signal", interface=REQUEST_INTERFACE, member="Response", path=expected)
        self._add_match(rule)
        try:
            with conn.filter(rule, bufsize=4) as responses:
                handle = self.call(interface, method, signature, body)[0]
                if handle != expected:  # an old frontend that ignores handle_token
                    log.debug("portal returned request %s, expected %s", handle, expected)
                    return self._wait_other_path(interface, method, handle, timeout)
                return self._wait_response(responses, interface, method, timeout)
        finally:
            self._remove_match(rule)

    def _wait_other_path(self, interface: str, method: str, handle: str, timeout: float | None) -> dict[str, Any]:
        from jeepney import MatchRule

        rule = MatchRule(type="signal", interface=REQUEST_INTERFACE, member="Response", path=handle)
        self._add_match(rule)
        try:
            with self.connection().filter(rule, bufsize=4) as responses:
                return self._wait_response(responses, interface, method, timeout)
        finally:
            self._remove_match(rule)

    def _wait_response(self, responses: Any, interface: str, method: str, timeout: float | None) -> dict[str, Any]:
        limit = self.response_timeout if timeout is None else timeout
        try:
            msg = self.connection().recv_until_filtered(responses, timeout=limit)
        except TimeoutError as exc:
            raise PortalTimeout(f"{interface}.{method}: no Response within {limit:g} s") from exc
        code, results = msg.body
        results = unwrap(results)
        if code == RESPONSE_SUCCESS:
            return results
        what = "cancelled" if code == RESPONSE_CANCELLED else "refused or failed"
        raise PortalCancelled(f"{interface}.{method} was {what} by the portal (response {code})")

    def _add_match(self, rule: Any) -> None:
        from jeepney import message_bus

        self.connection().send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT)

    def _remove_match(self, rule: Any) -> None:
        from jeepney import message_bus

        try:
            self.connection().send_and_get_reply(message_bus.RemoveMatch(rule), timeout=CALL_TIMEOUT)
        except Exception:  # noqa: BLE001 - the connection may be closing; the match dies with it
            log.debug("RemoveMatch failed", exc_info=True)
