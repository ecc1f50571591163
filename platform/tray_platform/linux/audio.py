"""Linux audio input over libpulse (PulseAudio, or PipeWire through pipewire-pulse), called with ctypes.

Why libpulse directly rather than a wrapper: each ``PulseAudioStream`` has its own context and threaded mainloop
(connected in ``open``, torn down in ``close``), so a restarted audio server is picked up by the next recording and
a stream that delivers nothing can still be closed at once (``read`` polls with a timeout). soundcard's
PulseAudio backend connects once at import (a module-level context that never reconnects) and its ``record``
loops until data arrives. The stream asks for latency interpolation, so each block is stamped with
``clock() - pa_stream_get_latency()``: the capture time of its first sample, independent of when this process
got around to reading it.

Devices: every source is listed; a source that is the monitor of a sink has kind ``"monitor"`` (what that output
plays). ``default_device("monitor")`` is the monitor of the default sink; ``default_device("mic")`` the default
source when it is not a monitor, else the first source that is not one.

Streams are connected with ``PA_STREAM_DONT_MOVE``: when the device goes away the stream fails (reported as
``AudioDeviceLost``) instead of being moved silently to another input.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from ctypes import POINTER, Structure, c_char_p, c_int, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p
from typing import Any, Callable

from tray_platform.base import AudioBlock, AudioDevice, AudioDeviceLost, AudioUnavailable

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0  # seconds for a context to connect and a stream to become ready
FRAGMENT_SECONDS = 0.02  # asked of the server; it may hand over smaller pieces (a source runs at the period of
# its lowest-latency client: 5 ms blocks are common)
POLL_SECONDS = 0.1  # the reader takes what arrived this often (see PulseAudioStream)

# enums from <pulse/def.h> and <pulse/sample.h>
_CTX_READY, _CTX_FAILED, _CTX_TERMINATED = 4, 5, 6
_STREAM_READY, _STREAM_FAILED, _STREAM_TERMINATED = 2, 3, 4
_OP_RUNNING = 0
_SAMPLE_FLOAT32LE = 5
_CONTEXT_NOAUTOSPAWN = 0x1
_STREAM_INTERPOLATE_TIMING = 0x2
_STREAM_AUTO_TIMING_UPDATE = 0x8
_STREAM_DONT_MOVE = 0x200
_STREAM_ADJUST_LATENCY = 0x2000
_INVALID_INDEX = 0xFFFFFFFF


class _SampleSpec(Structure):
    _fields_ = [("format", c_int), ("rate", c_uint32), ("channels", c_uint8)]


class _ChannelMap(Structure):
    _fields_ = [("channels", c_uint8), ("map", c_int * 32)]


class _CVolume(Structure):
    _fields_ = [("channels", c_uint8), ("values", c_uint32 * 32)]


class _BufferAttr(Structure):
    _fields_ = [("maxlength", c_uint32), ("tlength", c_uint32), ("prebuf", c_uint32), ("minreq", c_uint32),
                ("fragsize", c_uint32)]


class _SourceInfo(Structure):  # leading fields of pa_source_info (only read through a pointer)
    _fields_ = [("name", c_char_p), ("index", c_uint32), ("description", c_char_p), ("sample_spec", _SampleSpec),
                ("channel_map", _ChannelMap), ("owner_module", c_uint32), ("volume", _CVolume), ("mute", c_int),
                ("monitor_of_sink", c_uint32), ("monitor_of_sink_name", c_char_p)]


class _ServerInfo(Structure):  # leading fields of pa_server_info
    _fields_ = [("user_name", c_char_p), ("host_name", c_char_p), ("server_version", c_char_p),
                ("server_name", c_char_p), ("sample_spec", _SampleSpec), ("default_sink_name", c_char_p),
                ("default_source_name", c_char_p)]


_CONTEXT_NOTIFY = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
_SOURCE_INFO_CB = ctypes.CFUNCTYPE(None, c_void_p, POINTER(_SourceInfo), c_int, c_void_p)
_SERVER_INFO_CB = ctypes.CFUNCTYPE(None, c_void_p, POINTER(_ServerInfo), c_void_p)
_STREAM_NOTIFY = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)


def _load_libpulse() -> Any:
    name = ctypes.util.find_library("pulse") or "libpulse.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise AudioUnavailable(f"libpulse is not installed ({exc}): install PulseAudio or pipewire-pulse") from exc
    sig = {
        "pa_threaded_mainloop_new": (c_void_p, []),
        "pa_threaded_mainloop_get_api": (c_void_p, [c_void_p]),
        "pa_threaded_mainloop_start": (c_int, [c_void_p]),
        "pa_threaded_mainloop_stop": (None, [c_void_p]),
        "pa_threaded_mainloop_free": (None, [c_void_p]),
        "pa_threaded_mainloop_lock": (None, [c_void_p]),
        "pa_threaded_mainloop_unlock": (None, [c_void_p]),
        "pa_context_new": (c_void_p, [c_void_p, c_char_p]),
        "pa_context_set_state_callback": (None, [c_void_p, _CONTEXT_NOTIFY, c_void_p]),
        "pa_context_connect": (c_int, [c_void_p, c_char_p, c_int, c_void_p]),
        "pa_context_get_state": (c_int, [c_void_p]),
        "pa_context_errno": (c_int, [c_void_p]),
        "pa_context_disconnect": (None, [c_void_p]),
        "pa_context_unref": (None, [c_void_p]),
        "pa_context_get_source_info_list": (c_void_p, [c_void_p, _SOURCE_INFO_CB, c_void_p]),
        "pa_context_get_server_info": (c_void_p, [c_void_p, _SERVER_INFO_CB, c_void_p]),
        "pa_operation_get_state": (c_int, [c_void_p]),
        "pa_operation_cancel": (None, [c_void_p]),
        "pa_operation_unref": (None, [c_void_p]),
        "pa_strerror": (c_char_p, [c_int]),
        "pa_stream_new": (c_void_p, [c_void_p, c_char_p, POINTER(_SampleSpec), c_void_p]),
        "pa_stream_set_state_callback": (None, [c_void_p, _STREAM_NOTIFY, c_void_p]),
        "pa_stream_connect_record": (c_int, [c_void_p, c_char_p, POINTER(_BufferAttr), c_int]),
        "pa_stream_get_state": (c_int, [c_void_p]),
        "pa_stream_peek": (c_int, [c_void_p, POINTER(c_void_p), POINTER(c_size_t)]),
        "pa_stream_drop": (c_int, [c_void_p]),
        "pa_stream_get_latency": (c_int, [c_void_p, POINTER(c_uint64), POINTER(c_int)]),
        "pa_stream_disconnect": (c_int, [c_void_p]),
        "pa_stream_unref": (None, [c_void_p]),
    }
    for fn, (restype, argtypes) in sig.items():
        f = getattr(lib, fn)
        f.restype, f.argtypes = restype, argtypes
    return lib


class _Connection:
    """A threaded mainloop + a connected context. Callbacks run on the mainloop's thread with its lock held;
    everything else takes the lock (``with conn.locked():``)."""

    def __init__(self, pa: Any, app_name: str, server: str | None):
        self.pa = pa
        self._ready = threading.Event()
        self.mainloop = pa.pa_threaded_mainloop_new()
        self.context = pa.pa_context_new(pa.pa_threaded_mainloop_get_api(self.mainloop), app_name.encode())
        self._on_state = _CONTEXT_NOTIFY(lambda ctx, _u: self._ready.set())  # kept alive with self
        self.failed = threading.Event()
        self.lost_callbacks: list[Callable[[str], None]] = []
        pa.pa_context_set_state_callback(self.context, self._on_state, None)
        self._running = False
        try:
            if pa.pa_context_connect(self.context, server.encode() if server else None,
                                     _CONTEXT_NOAUTOSPAWN, None) < 0:
                raise AudioUnavailable(f"no PulseAudio/PipeWire server: {self.error()}")
            if pa.pa_threaded_mainloop_start(self.mainloop) < 0:
                raise AudioUnavailable("cannot start the PulseAudio mainloop thread")
            self._running = True
            deadline = time.monotonic() + CONNECT_TIMEOUT
            while True:
                state = self.state()
                if state == _CTX_READY:
                    break
                if state in (_CTX_FAILED, _CTX_TERMINATED):
                    raise AudioUnavailable(f"no PulseAudio/PipeWire server: {self.error()}")
                if time.monotonic() > deadline:
                    raise AudioUnavailable(f"the audio server did not answer within {CONNECT_TIMEOUT:.0f} s")
                self._ready.wait(0.05)
                self._ready.clear()
            self._on_state = _CONTEXT_NOTIFY(self._state_changed)
            with self.locked():
                pa.pa_context_set_state_callback(self.context, self._on_state, None)
        except BaseException:
            self.close()
            raise

    def _state_changed(self, _ctx, _userdata) -> None:  # mainloop thread
        if self.pa.pa_context_get_state(self.context) in (_CTX_FAILED, _CTX_TERMINATED):
            self.failed.set()
            for cb in list(self.lost_callbacks):
                cb(f"the audio server connection ended ({self.error()})")

    def locked(self):
        pa, ml = self.pa, self.mainloop

        class _Lock:
            def __enter__(self):
                pa.pa_threaded_mainloop_lock(ml)

            def __exit__(self, *exc):
                pa.pa_threaded_mainloop_unlock(ml)

        return _Lock()

    def state(self) -> int:
        with self.locked():
            return self.pa.pa_context_get_state(self.context)

    def error(self) -> str:
        return self.pa.pa_strerror(self.pa.pa_context_errno(self.context)).decode(errors="replace")

    def run_operation(self, start: Callable[[], int | None], done: threading.Event, what: str) -> None:
        with self.locked():
            op = start()
        if not op:
            raise AudioUnavailable(f"{what} failed: {self.error()}")
        try:
            if not done.wait(CONNECT_TIMEOUT):
                raise AudioUnavailable(f"{what}: the audio server did not answer within {CONNECT_TIMEOUT:.0f} s")
        finally:
            with self.locked():
                if self.pa.pa_operation_get_state(op) == _OP_RUNNING:
                    self.pa.pa_operation_cancel(op)
                self.pa.pa_operation_unref(op)

    def close(self) -> None:
        pa = self.pa
        if self.context:
            if self._running:
                with self.locked():
                    pa.pa_context_disconnect(self.context)
                    pa.pa_context_unref(self.context)
            else:
                pa.pa_context_disconnect(self.context)
                pa.pa_context_unref(self.context)
            self.context = None
        if self.mainloop:
            if self._running:
                pa.pa_threaded_mainloop_stop(self.mainloop)
            pa.pa_threaded_mainloop_free(self.mainloop)
            self.mainloop = None


class PulseAudioStream:
    """A record stream on its own connection (see the module docstring), read by one consumer thread.

    ``read`` takes, under the mainloop lock, everything the server delivered since the last call (``pa_stream_peek``
    / ``pa_stream_drop``) and stamps it with the stream's latency, polling every ``POLL_SECONDS`` while there is
    none. There is deliberately no read callback: the server may deliver every 5 ms, and a ctypes callback per
    delivery ran Python on libpulse's mainloop thread 200 times a second per input (~5 % of a core for two inputs,
    measured with benchmarks/recording.py --audio); polling costs 10 wake-ups a second and gives the same timestamps."""

    def __init__(self, pa: Any, device_id: str, *, rate: int, channels: int, clock: Callable[[], float],
                 server: str | None = None, app_name: str = "Snaplark"):
        self.rate, self.channels = rate, channels
        self.device_id = device_id
        self._clock = clock
        self._pa = pa
        self._frame_bytes = 4 * channels
        self._wake = threading.Event()  # set when the stream is lost, to end a poll wait at once
        self._lost: str | None = None
        self._stream = None
        self.latency_unknown = 0  # blocks stamped without timing info (the first ones, usually)
        self._conn = _Connection(pa, app_name, server)
        try:
            self._open(device_id)
        except BaseException:
            self.close()
            raise

    def _open(self, device_id: str) -> None:
        pa, conn = self._pa, self._conn
        spec = _SampleSpec(_SAMPLE_FLOAT32LE, self.rate, self.channels)
        frag = int(self.rate * FRAGMENT_SECONDS) * self._frame_bytes
        attr = _BufferAttr(_INVALID_INDEX, _INVALID_INDEX, _INVALID_INDEX, _INVALID_INDEX, frag)
        self._on_state = _STREAM_NOTIFY(self._state_changed)
        conn.lost_callbacks.append(self._mark_lost)
        ready = threading.Event()
        self._ready = ready
        with conn.locked():
            self._stream = pa.pa_stream_new(conn.context, b"Snaplark recording", ctypes.byref(spec), None)
            if not self._stream:
                raise AudioUnavailable(f"cannot create a record stream: {conn.error()}")
            pa.pa_stream_set_state_callback(self._stream, self._on_state, None)
            flags = _STREAM_ADJUST_LATENCY | _STREAM_INTERPOLATE_TIMING | _STREAM_AUTO_TIMING_UPDATE | _STREAM_DONT_MOVE
            if pa.pa_stream_connect_record(self._stream, device_id.encode(), ctypes.byref(attr), flags) < 0:
                raise AudioUnavailable(f"cannot record from {device_id!r}: {conn.error()}")
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            with conn.locked():
                state = pa.pa_stream_get_state(self._stream)
            if state == _STREAM_READY:
                return
            if state in (_STREAM_FAILED, _STREAM_TERMINATED):
                raise AudioUnavailable(f"cannot record from {device_id!r}: {conn.error()}")
            if time.monotonic() > deadline:
                raise AudioUnavailable(f"{device_id!r} did not start within {CONNECT_TIMEOUT:.0f} s")
            ready.wait(0.05)
            ready.clear()

    # mainloop thread -----------------------------------------------------------
    def _state_changed(self, stream, _userdata) -> None:
        self._ready.set()
        if self._pa.pa_stream_get_state(stream) == _STREAM_FAILED:
            self._mark_lost(f"{self.device_id} stopped ({self._conn.error()})")

    def _mark_lost(self, reason: str) -> None:
        if self._lost is None:
            self._lost = reason
            self._wake.set()

    # reader thread -------------------------------------------------------------
    def read(self, timeout: float) -> AudioBlock | None:
        deadline = time.monotonic() + timeout
        while True:
            if self._lost is not None:
                raise AudioDeviceLost(self._lost)
            with self._conn.locked():
                block = self._take_available()
            if block is not None:
                return block
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._wake.wait(min(POLL_SECONDS, left))

    def _take_available(self) -> AudioBlock | None:
        """What the server delivered since the last call, stamped with its capture time (mainloop locked)."""
        pa, stream = self._pa, self._stream
        if pa.pa_stream_get_state(stream) != _STREAM_READY:
            return None
        now = self._clock()
        usec, negative = c_uint64(0), c_int(0)
        if pa.pa_stream_get_latency(stream, ctypes.byref(usec), ctypes.byref(negative)) == 0:
            age = (-1 if negative.value else 1) * usec.value / 1e6  # of the oldest unread sample
            start = now - age
        else:
            start = None
        data, nbytes = c_void_p(), c_size_t(0)
        chunks: list[bytes] = []
        total = 0
        while pa.pa_stream_peek(stream, ctypes.byref(data), ctypes.byref(nbytes)) == 0 and nbytes.value:
            n = nbytes.value - nbytes.value % self._frame_bytes
            chunks.append(ctypes.string_at(data, n) if data.value else bytes(n))  # NULL data = a hole: silence
            total += n
            pa.pa_stream_drop(stream)
        if not total:
            return None
        frames = total // self._frame_bytes
        if start is None:  # no timing info yet: assume it was all captured just now
            self.latency_unknown += 1
            start = now - frames / self.rate
        return AudioBlock(b"".join(chunks), frames, start)

    def close(self) -> None:
        conn = self._conn
        if self._stream is not None:
            with conn.locked():
                pa = self._pa
                if pa.pa_stream_get_state(self._stream) == _STREAM_READY:
                    pa.pa_stream_disconnect(self._stream)
                pa.pa_stream_unref(self._stream)
            self._stream = None
        conn.close()


class PulseAudioInput:
    """Lists PulseAudio/PipeWire sources and opens record streams. The constructor does no I/O; each call connects
    anew (``server``: a PulseAudio server string, default: libpulse's own lookup, ``PULSE_SERVER`` first)."""

    capabilities = frozenset({"mic", "system"})

    def __init__(self, *, server: str | None = None, app_name: str = "Snaplark"):
        self._server = server
        self._app_name = app_name
        self._pa = None

    def _lib(self) -> Any:
        if self._pa is None:
            self._pa = _load_libpulse()
        return self._pa

    def devices(self) -> list[AudioDevice]:
        pa = self._lib()
        conn = _Connection(pa, self._app_name, self._server)
        try:
            server: dict[str, str] = {}
            sources: list[tuple[str, str, bool]] = []
            got_server, got_sources = threading.Event(), threading.Event()

            def on_server(_ctx, info, _u):
                if info:
                    i = info.contents
                    server["sink"] = (i.default_sink_name or b"").decode(errors="replace")
                    server["source"] = (i.default_source_name or b"").decode(errors="replace")
                got_server.set()

            def on_source(_ctx, info, eol, _u):
                if eol or not info:
                    got_sources.set()
                    return
                i = info.contents
                monitor_of = (i.monitor_of_sink_name or b"").decode(errors="replace") \
                    if i.monitor_of_sink != _INVALID_INDEX else ""
                sources.append((i.name.decode(errors="replace"),
                                (i.description or i.name).decode(errors="replace"), monitor_of))

            server_cb, source_cb = _SERVER_INFO_CB(on_server), _SOURCE_INFO_CB(on_source)
            conn.run_operation(lambda: pa.pa_context_get_server_info(conn.context, server_cb, None), got_server,
                               "asking the audio server for its defaults")
            conn.run_operation(lambda: pa.pa_context_get_source_info_list(conn.context, source_cb, None),
                               got_sources, "listing audio sources")
        finally:
            conn.close()
        out: list[AudioDevice] = []
        mics = [s for s in sources if not s[2]]
        default_mic = server.get("source") if any(s[0] == server.get("source") for s in mics) else (
            mics[0][0] if mics else None)
        for name, description, monitor_of in sources:
            if monitor_of:
                out.append(AudioDevice(name, description, "monitor", monitor_of == server.get("sink")))
            else:
                out.append(AudioDevice(name, description, "mic", name == default_mic))
        return out

    def default_device(self, kind: str) -> AudioDevice | None:
        return next((d for d in self.devices() if d.kind == kind and d.is_default), None)

    def open(self, device_id: str, *, rate: int, channels: int,
             clock: Callable[[], float] = time.monotonic) -> PulseAudioStream:
        return PulseAudioStream(self._lib(), device_id, rate=rate, channels=channels, clock=clock,
                                server=self._server, app_name=self._app_name)


def create(**kwargs: Any) -> PulseAudioInput:
    return PulseAudioInput(**kwargs)
