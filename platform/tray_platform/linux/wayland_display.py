"""Wayland monitor layout, read with a few lines of the Wayland wire protocol (no libwayland binding needed).

Why speak the protocol directly: no maintained Python binding ships wheels that work everywhere (pywayland builds
against libwayland-dev and wayland-scanner), GTK would have to be initialised on the Wayland display in this
process (the tray already owns a GTK main loop on another thread), and ``swaymsg``/``hyprctl``/``kscreen-doctor``
are one compositor each. What we need is read-only and tiny: ``wl_registry`` globals, ``wl_output`` (mode, scale,
position) and, where offered (sway, Hyprland, KWin, Mutter all do), ``zxdg_output_manager_v1`` for the logical
position and size.

Wire format (wayland.freedesktop.org/docs/html/ch04.html): each message is ``object id: u32``, ``size << 16 |
opcode: u32`` (host byte order), then 4-byte aligned arguments; a string is its length including the NUL, the bytes,
padding. Every call opens a connection, asks, and closes it (an instance holds nothing between calls; any thread).

Coordinates: a ``Monitor.region`` is the output's logical position times its scale, and its current mode's pixel
size -- the physical pixels the Screenshot portal delivers for single-scale layouts. Mixed scales are not mapped
exactly (each portal composes those differently).
"""

from __future__ import annotations

import os
import socket
import struct
import time
from dataclasses import dataclass, field

from tray_platform.base import Monitor, NoDisplayError, Region

TIMEOUT = 3.0  # seconds for the whole exchange
_DISPLAY_ID = 1
_MODE_CURRENT = 0x1


@dataclass
class WaylandOutput:
    """What the compositor says about one output (raw values; see ``Monitor`` for ours)."""

    global_name: int
    x: int = 0
    y: int = 0
    mode_width: int = 0
    mode_height: int = 0
    transform: int = 0
    scale: int = 1
    name: str = ""
    logical_x: int | None = None
    logical_y: int | None = None
    logical_width: int | None = None
    logical_height: int | None = None
    extra: dict = field(default_factory=dict)

    def pixel_size(self) -> tuple[int, int]:
        w, h = self.mode_width, self.mode_height
        if self.transform % 2 == 1:  # 90 / 270 (also flipped): the output is rotated
            w, h = h, w
        return w, h


def _socket_path(display: str | None) -> str:
    name = display or os.environ.get("WAYLAND_DISPLAY") or "wayland-0"
    if name.startswith("/"):
        return name
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        raise NoDisplayError("no Wayland display to query: XDG_RUNTIME_DIR is not set")
    return os.path.join(runtime, name)


def _string(s: str) -> bytes:
    raw = s.encode() + b"\0"
    return struct.pack("=I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


class _Wire:
    """A blocking client connection that sends requests and splits incoming events."""

    def __init__(self, path: str, timeout: float) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.deadline = time.monotonic() + timeout
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        except OSError as exc:
            self.sock.close()
            raise NoDisplayError(f"cannot connect to the Wayland display at {path}: {exc}") from exc
        self.buffer = b""
        self.next_id = 2

    def new_id(self) -> int:
        object_id = self.next_id
        self.next_id += 1
        return object_id

    def send(self, object_id: int, opcode: int, payload: bytes = b"") -> None:
        self.sock.sendall(struct.pack("=II", object_id, (8 + len(payload)) << 16 | opcode) + payload)

    def events(self):
        while True:
            while len(self.buffer) >= 8:
                object_id, word = struct.unpack_from("=II", self.buffer)
                size, opcode = word >> 16, word & 0xFFFF
                if size < 8:
                    raise NoDisplayError("malformed Wayland message")
                if len(self.buffer) < size:
                    break
                payload, self.buffer = self.buffer[8:size], self.buffer[size:]
                yield object_id, opcode, payload
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise NoDisplayError("the Wayland compositor did not answer in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise NoDisplayError("the Wayland compositor closed the connection")
            self.buffer += chunk

    def roundtrip(self, handle) -> None:
        """wl_display.sync and dispatch events to ``handle`` until its callback fires."""
        callback = self.new_id()
        self.send(_DISPLAY_ID, 0, struct.pack("=I", callback))
        for object_id, opcode, payload in self.events():
            if object_id == callback:
                return
            if object_id == _DISPLAY_ID and opcode == 0:  # wl_display.error
                _, code = struct.unpack_from("=II", payload)
                raise NoDisplayError(f"Wayland protocol error {code}: {_read_string(payload, 8)[0]}")
            handle(object_id, opcode, payload)

    def close(self) -> None:
        self.sock.close()


def _read_string(payload: bytes, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("=I", payload, offset)
    offset += 4
    text = payload[offset:offset + max(0, length - 1)].decode(errors="replace")
    return text, offset + length + (-length % 4)


def read_outputs(display: str | None = None, *, timeout: float = TIMEOUT) -> list[WaylandOutput]:
    """The outputs the compositor announces, in announcement order."""
    wire = _Wire(_socket_path(display), timeout)
    try:
        registry = wire.new_id()
        wire.send(_DISPLAY_ID, 1, struct.pack("=I", registry))
        globals_: list[tuple[int, str, int]] = []

        def on_registry(object_id: int, opcode: int, payload: bytes) -> None:
            if object_id == registry and opcode == 0:
                (name,) = struct.unpack_from("=I", payload)
                interface, offset = _read_string(payload, 4)
                (version,) = struct.unpack_from("=I", payload, offset)
                globals_.append((name, interface, version))

        wire.roundtrip(on_registry)
        outputs: dict[int, WaylandOutput] = {}
        xdg_outputs: dict[int, WaylandOutput] = {}
        for name, interface, version in globals_:
            if interface == "wl_output":
                object_id = wire.new_id()
                wire.send(registry, 0, struct.pack("=I", name) + _string("wl_output")
                          + struct.pack("=II", min(version, 4), object_id))
                outputs[object_id] = WaylandOutput(global_name=name)
        manager = None
        for name, interface, version in globals_:
            if interface == "zxdg_output_manager_v1":
                manager = wire.new_id()
                wire.send(registry, 0, struct.pack("=I", name) + _string(interface)
                          + struct.pack("=II", min(version, 3), manager))
        if manager is not None:
            for output_id, out in outputs.items():
                xdg_id = wire.new_id()
                wire.send(manager, 1, struct.pack("=II", xdg_id, output_id))
                xdg_outputs[xdg_id] = out

        def on_output(object_id: int, opcode: int, payload: bytes) -> None:
            out = outputs.get(object_id)
            if out is not None:
                if opcode == 0:  # geometry
                    out.x, out.y = struct.unpack_from("=ii", payload)
                    _, offset = _read_string(payload, 20)
                    _, offset = _read_string(payload, offset)
                    (out.transform,) = struct.unpack_from("=i", payload, offset)
                elif opcode == 1:  # mode
                    flags, w, h, _refresh = struct.unpack_from("=Iiii", payload)
                    if flags & _MODE_CURRENT:
                        out.mode_width, out.mode_height = w, h
                elif opcode == 3:  # scale
                    (out.scale,) = struct.unpack_from("=i", payload)
                elif opcode == 4:  # name (v4)
                    out.name = _read_string(payload, 0)[0]
                return
            out = xdg_outputs.get(object_id)
            if out is not None:
                if opcode == 0:
                    out.logical_x, out.logical_y = struct.unpack_from("=ii", payload)
                elif opcode == 1:
                    out.logical_width, out.logical_height = struct.unpack_from("=ii", payload)
                elif opcode == 3 and not out.name:
                    out.name = _read_string(payload, 0)[0]

        wire.roundtrip(on_output)
        return list(outputs.values())
    except OSError as exc:
        raise NoDisplayError(f"talking to the Wayland compositor failed: {exc}") from exc
    finally:
        wire.close()


def monitors_from_outputs(outputs: list[WaylandOutput]) -> list[Monitor]:
    """Our 0-based monitors, left to right then top to bottom; the one at the origin (else the first) is primary."""
    placed = []
    for out in outputs:
        scale = max(1, out.scale)
        lx = out.logical_x if out.logical_x is not None else out.x
        ly = out.logical_y if out.logical_y is not None else out.y
        w, h = out.pixel_size()
        if w <= 0 or h <= 0:
            continue  # an output without a current mode (disabled)
        placed.append((lx * scale, ly * scale, w, h, float(scale)))
    placed.sort(key=lambda p: (p[1], p[0]))
    primary = next((i for i, p in enumerate(placed) if p[0] == 0 and p[1] == 0), 0)
    return [Monitor(index=i, region=Region(x, y, w, h), scale=s, primary=(i == primary))
            for i, (x, y, w, h, s) in enumerate(placed)]


class WaylandDisplayInfo:
    """Monitors of the Wayland session (``display``: a WAYLAND_DISPLAY name or socket path). Any thread; each call
    connects anew (monitors come and go)."""

    def __init__(self, *, display: str | None = None, timeout: float = TIMEOUT) -> None:
        self._display = display
        self._timeout = timeout

    def monitors(self) -> list[Monitor]:
        monitors = monitors_from_outputs(read_outputs(self._display, timeout=self._timeout))
        if not monitors:
            raise NoDisplayError("the Wayland compositor announces no enabled output")
        return monitors

    def virtual_screen(self) -> Region:
        monitors = self.monitors()
        left = min(m.region.left for m in monitors)
        top = min(m.region.top for m in monitors)
        right = max(m.region.right for m in monitors)
        bottom = max(m.region.bottom for m in monitors)
        return Region(left, top, right - left, bottom - top)


def create(**kwargs) -> WaylandDisplayInfo:
    return WaylandDisplayInfo(**kwargs)
