"""Wayland recording: ``org.freedesktop.portal.ScreenCast`` -> a PipeWire stream -> GStreamer ``pipewiresrc`` ->
BGRx frames for the recorder's existing capture loop (and from there the existing encoder).

Portal dance (:class:`ScreenCastSession`, all on one jeepney connection with fd passing):
``CreateSession`` -> ``SelectSources`` (monitor, ``multiple`` false, cursor ``embedded`` when asked and offered,
``persist_mode`` 2 = until revoked, and the ``restore_token`` kept from last time so the user is asked once) ->
``Start`` (returns the streams: PipeWire node id, position and size; and a new restore token, saved) ->
``OpenPipeWireRemote`` (a file descriptor onto the PipeWire daemon that can see only that node). ``close`` ends
the session (``org.freedesktop.portal.Session.Close``) and closes the fd.

Frame path (:class:`PipeWireFrames`): ``pipewiresrc fd=N path=NODE ! videoconvert ! video/x-raw,format=BGRx !
appsink max-buffers=1 drop=true``. GStreamer's PipeWire element is maintained by PipeWire itself (it ships with
every PipeWire release), negotiates shm and DMA-BUF buffers, and is in every distribution's gstreamer1.0-pipewire;
there is no maintained Python binding of libpipewire (``pipewire_python`` drives the ``pw-cat`` CLI, audio only).
The appsink keeps only the newest frame; the recorder's capture loop pulls at its own fps on its deadline grid
(as with mss on X11), so VFR skipping, pacing and queue bounds work unchanged. Measured on sway headless, 1280x720
at 30 fps: ~4 % of one core in this process for pipewiresrc + the copy out of GStreamer.

:class:`ScreenCastCapture` is the ``ScreenCapture`` adapter: the session starts on the first ``grab`` (on the
capture thread: constructors do no I/O), each grab returns the newest frame cropped to the region (region
recording crops the monitor's stream), ``close`` stops the pipeline and the session. The stream is one monitor:
a region must lie inside it (on wlroots the portal's configured/chosen output, elsewhere the user's pick).

Threading: one ``ScreenCastCapture`` per thread (the recorder's capture thread); GStreamer's own streaming
threads fill the appsink, and ``grab`` only pulls from it.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tray_platform.base import NoDisplayError, Region
from tray_platform.linux.portal import (SESSION_INTERFACE, PortalCancelled, PortalConnection, PortalError,
                                        PortalUnavailable)

log = logging.getLogger(__name__)

SCREENCAST_INTERFACE = "org.freedesktop.portal.ScreenCast"
SOURCE_MONITOR, SOURCE_WINDOW = 1, 2
CURSOR_HIDDEN, CURSOR_EMBEDDED, CURSOR_METADATA = 1, 2, 4
PERSIST_UNTIL_REVOKED = 2
FIRST_FRAME_TIMEOUT = 5.0  # seconds from Start to the first frame
TOKEN_FILE = "screencast-restore-token"


class ScreenCastFailed(NoDisplayError):
    """The ScreenCast portal is missing or refused, or PipeWire/GStreamer could not deliver frames."""


@dataclass(frozen=True)
class CastStream:
    node_id: int
    position: tuple[int, int]  # logical, in the compositor's layout
    size: tuple[int, int]  # logical
    source_type: int


def default_token_path() -> Path:
    """Where the restore token is kept: next to Snaplark's data (``SNAPLARK_DATA_DIR``), else the XDG state dir."""
    base = os.environ.get("SNAPLARK_DATA_DIR")
    if base:
        return Path(base) / TOKEN_FILE
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "snaplark" / TOKEN_FILE


class ScreenCastSession:
    """One portal screencast session (see the module docstring). One thread."""

    def __init__(self, *, cursor: bool = False, token_path: Path | None = None,
                 portal: PortalConnection | None = None) -> None:
        self.cursor = cursor
        self.token_path = token_path if token_path is not None else default_token_path()
        self._portal = portal
        self._session: str | None = None
        self.streams: list[CastStream] = []
        self.restored = False  # True when a saved restore token was offered to the portal
        self.cursor_mode: int | None = None
        self._fd: Any = None

    def _connection(self) -> PortalConnection:
        if self._portal is None:
            self._portal = PortalConnection(enable_fds=True)
        return self._portal

    def _property(self, name: str) -> int:
        from tray_platform.linux.portal import unwrap

        return int(unwrap(self._connection().call("org.freedesktop.DBus.Properties", "Get", "ss",
                                                   (SCREENCAST_INTERFACE, name))[0]))

    def start(self) -> list[CastStream]:
        portal = self._connection()
        version = portal.version(SCREENCAST_INTERFACE)
        if version is None:
            raise ScreenCastFailed("the desktop portal has no ScreenCast interface (install xdg-desktop-portal and "
                                   "your desktop's backend: -gnome, -kde, -wlr or -hyprland)")
        try:
            sources = self._property("AvailableSourceTypes")
            cursors = self._property("AvailableCursorModes")
            if not sources & SOURCE_MONITOR:
                raise ScreenCastFailed(f"the ScreenCast portal cannot share a monitor (source types {sources})")
            created = portal.request(SCREENCAST_INTERFACE, "CreateSession", "a{sv}",
                                     ({"session_handle_token": ("s", portal.new_token())},))
            self._session = str(created["session_handle"])
            wanted = CURSOR_EMBEDDED if self.cursor else CURSOR_HIDDEN
            self.cursor_mode = wanted if cursors & wanted else None
            options: dict[str, Any] = {"types": ("u", SOURCE_MONITOR), "multiple": ("b", False)}
            if self.cursor_mode is not None:
                options["cursor_mode"] = ("u", self.cursor_mode)
            if version >= 4:
                options["persist_mode"] = ("u", PERSIST_UNTIL_REVOKED)
                token = self._load_token()
                if token:
                    options["restore_token"] = ("s", token)
                    self.restored = True
            portal.request(SCREENCAST_INTERFACE, "SelectSources", "oa{sv}", (self._session, options))
            started = portal.request(SCREENCAST_INTERFACE, "Start", "osa{sv}", (self._session, "", {}))
            if started.get("restore_token"):
                self._save_token(str(started["restore_token"]))
            self.streams = [CastStream(int(node), tuple(props.get("position", (0, 0))),
                                       tuple(props.get("size", (0, 0))), int(props.get("source_type", 0)))
                            for node, props in started.get("streams", [])]
            if not self.streams:
                raise ScreenCastFailed("the ScreenCast portal started without any stream")
            self._fd = portal.call(SCREENCAST_INTERFACE, "OpenPipeWireRemote", "oa{sv}", (self._session, {}))[0]
        except PortalCancelled as exc:
            self.close()
            raise ScreenCastFailed(f"screen recording was not allowed: {exc}") from exc
        except (PortalUnavailable, PortalError) as exc:
            self.close()
            raise ScreenCastFailed(f"the ScreenCast portal failed: {exc}") from exc
        return self.streams

    def pipewire_fd(self) -> int:
        """The raw fd onto PipeWire (owned by this session; closed by ``close``)."""
        if self._fd is None:
            raise ScreenCastFailed("the screencast session has not started")
        return self._fd.fileno()

    def _load_token(self) -> str | None:
        try:
            token = self.token_path.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return token or None

    def _save_token(self, token: str) -> None:
        try:
            self.token_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.token_path.with_suffix(".tmp")
            tmp.write_text(token + "\n", encoding="utf-8")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.token_path)
        except OSError as exc:  # the recording still works; only the next one asks again
            log.warning("cannot keep the screencast restore token in %s: %s", self.token_path, exc)

    def close(self) -> None:
        if self._fd is not None:
            try:
                self._fd.close()
            except OSError:
                pass
            self._fd = None
        if self._session is not None and self._portal is not None:
            try:
                self._portal.call(SESSION_INTERFACE, "Close", path=self._session)
            except PortalError as exc:
                log.debug("closing the screencast session: %s", exc)
            self._session = None
        if self._portal is not None:
            self._portal.close()
            self._portal = None


class PipeWireFrames:
    """GStreamer pipeline from a PipeWire node to an appsink that keeps the newest BGRx frame. ``latest`` may be
    called from one consumer thread; GStreamer's streaming thread fills the sink."""

    def __init__(self, fd: int, node_id: int) -> None:
        self._fd = fd
        self._node_id = node_id
        self._pipeline: Any = None
        self._sink: Any = None
        self._gst: Any = None
        self.frames_pulled = 0

    def start(self) -> None:
        try:
            import gi

            gi.require_version("Gst", "1.0")
            gi.require_version("GstVideo", "1.0")
            from gi.repository import Gst
        except (ImportError, ValueError) as exc:
            raise ScreenCastFailed(f"GStreamer is not installed for Python ({exc}): install gir1.2-gstreamer-1.0, "
                                   "gir1.2-gst-plugins-base-1.0 and gstreamer1.0-pipewire") from exc
        Gst.init(None)
        if Gst.ElementFactory.find("pipewiresrc") is None:
            raise ScreenCastFailed("GStreamer has no pipewiresrc element: install gstreamer1.0-pipewire")
        self._gst = Gst
        fd = os.dup(self._fd)  # pipewiresrc's connection closes the fd it is given: it gets its own copy
        description = (f"pipewiresrc fd={fd} path={self._node_id} always-copy=true do-timestamp=true "
                       "! videoconvert ! video/x-raw,format=BGRx "
                       "! appsink name=sink max-buffers=1 drop=true sync=false emit-signals=false")
        try:
            self._pipeline = Gst.parse_launch(description)
        except Exception:
            os.close(fd)
            raise
        self._sink = self._pipeline.get_by_name("sink")
        if self._pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            error = self._bus_error()
            self.stop()
            raise ScreenCastFailed(f"the PipeWire stream did not start: {error}")

    def _bus_error(self) -> str:
        bus = self._pipeline.get_bus() if self._pipeline is not None else None
        msg = bus.pop_filtered(self._gst.MessageType.ERROR) if bus is not None else None
        if msg is None:
            return "no error message"
        err, debug = msg.parse_error()
        return f"{err.message} ({debug})"

    def latest(self, timeout: float) -> tuple[int, int, int, bytes] | None:
        """(width, height, stride, BGRx bytes) of the newest frame that arrived since the last call, waiting up to
        ``timeout`` s for one; None if none came (a static screen: the compositor sends frames on damage)."""
        Gst = self._gst
        sample = self._sink.emit("try-pull-sample", int(timeout * Gst.SECOND))
        if sample is None:
            error = self._bus_error() if self._sink.get_property("eos") else None
            if error:
                raise ScreenCastFailed(f"the PipeWire stream ended: {error}")
            return None
        # drain: max-buffers=1 already keeps only the newest, but a frame may have arrived while we mapped
        from gi.repository import GstVideo

        info = GstVideo.VideoInfo.new_from_caps(sample.get_caps())
        buffer = sample.get_buffer()
        data = buffer.extract_dup(0, buffer.get_size())
        self.frames_pulled += 1
        return info.width, info.height, info.stride[0], data

    def stop(self) -> None:
        if self._pipeline is not None:
            self._pipeline.set_state(self._gst.State.NULL)
            self._pipeline = None
            self._sink = None


def crop_bgrx(width: int, height: int, stride: int, data: bytes, box: tuple[int, int, int, int]) -> bytes:
    """Rows ``box = (left, top, right, bottom)`` of a BGRx frame, tightly packed."""
    left, top, right, bottom = box
    if (left, top, right, bottom) == (0, 0, width, height) and stride == width * 4:
        return data
    view = memoryview(data)
    row = (right - left) * 4
    out = bytearray(row * (bottom - top))
    for i, y in enumerate(range(top, bottom)):
        start = y * stride + left * 4
        out[i * row:(i + 1) * row] = view[start:start + row]
    return bytes(out)


class ScreenCastCapture:
    """``ScreenCapture`` over the ScreenCast portal (see the module docstring). One thread."""

    def __init__(self, *, with_cursor: bool = False, token_path: Path | None = None,
                 first_frame_timeout: float = FIRST_FRAME_TIMEOUT) -> None:
        self.with_cursor = with_cursor
        self._token_path = token_path
        self._first_frame_timeout = first_frame_timeout
        self._session: ScreenCastSession | None = None
        self._frames: PipeWireFrames | None = None
        self._last: tuple[int, int, int, bytes] | None = None
        self.stream: CastStream | None = None
        self.restored = False  # the portal was offered the restore token kept from an earlier recording

    def _start(self) -> None:
        session = ScreenCastSession(cursor=self.with_cursor, token_path=self._token_path)
        self._session = session
        streams = session.start()
        self.restored = session.restored
        self.stream = streams[0]
        self._frames = PipeWireFrames(session.pipewire_fd(), self.stream.node_id)
        self._frames.start()
        t0 = time.monotonic()
        first = self._frames.latest(self._first_frame_timeout)
        if first is None:
            raise ScreenCastFailed(f"no frame from the ScreenCast stream within {self._first_frame_timeout:g} s")
        log.info("screencast started: node %s, %dx%d at %s, first frame after %.0f ms", self.stream.node_id,
                 first[0], first[1], self.stream.position, (time.monotonic() - t0) * 1000)
        self._last = first

    def grab(self, region: Region) -> tuple[int, int, bytes]:
        if self._session is None:
            try:
                self._start()
            except BaseException:
                self.close()
                raise
        else:
            newer = self._frames.latest(0)
            if newer is not None:
                self._last = newer
        width, height, stride, data = self._last
        ox, oy = self.stream.position
        lw = self.stream.size[0] or width
        scale = width / lw if lw else 1.0  # stream pixels per logical pixel
        left, top = round(region.left - ox * scale), round(region.top - oy * scale)
        box = (left, top, left + region.width, top + region.height)
        if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
            raise ScreenCastFailed(f"region {region} is not inside the shared monitor ({width}x{height} at "
                                   f"{self.stream.position}); record one monitor at a time on Wayland")
        return region.width, region.height, crop_bgrx(width, height, stride, data, box)

    def close(self) -> None:
        if self._frames is not None:
            self._frames.stop()
            self._frames = None
        if self._session is not None:
            self._session.close()
            self._session = None


def create(**kwargs: Any) -> ScreenCastCapture:
    return ScreenCastCapture(**kwargs)
