"""A/V sync beacon for the audio e2e tests (run as a subprocess): a black Tk window that turns white for 150 ms
at the instant a click plays through a PulseAudio sink, every ``--period`` seconds.

Audio: a libpulse "simple" playback stream (ctypes) written 10 ms at a time, 30 ms target buffer; silence with a
``--click-seconds`` burst of 2 kHz (0.8 amplitude, sharp onset) every period. Right after writing the block that
holds a click, ``pa_simple_get_latency`` (when the last written sample plays) gives the click's play time on
``time.monotonic()``. The Tk thread draws the flash at that time (1 ms polling) and prints one JSON line per event:
``{"click": k, "play_at": t, "flash_at": t}`` (flash_at = monotonic time right after the X server was flushed).
With ``--noise`` the window shows random pixels, new ones every 40 ms (a high video bitrate, for tests that need a
file of several upload parts), and flashes are not drawn. Prints "ready" once the window is drawn and audio runs.
Exits on SIGTERM.
"""

import argparse
import ctypes
import ctypes.util
import json
import math
import os
import queue
import sys
import threading
import time
import tkinter as tk
from array import array

RATE = 48_000
BLOCK = 480  # 10 ms


class _Spec(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("rate", ctypes.c_uint32), ("channels", ctypes.c_uint8)]


class _Attr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("maxlength", "tlength", "prebuf", "minreq", "fragsize")]


def open_playback(server: str, sink: str):
    pa = ctypes.CDLL(ctypes.util.find_library("pulse-simple") or "libpulse-simple.so.0")
    pa.pa_simple_new.restype = ctypes.c_void_p
    pa.pa_simple_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                                 ctypes.POINTER(_Spec), ctypes.c_void_p, ctypes.POINTER(_Attr),
                                 ctypes.POINTER(ctypes.c_int)]
    pa.pa_simple_write.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)]
    pa.pa_simple_get_latency.restype = ctypes.c_uint64
    pa.pa_simple_get_latency.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    err = ctypes.c_int(0)
    none = 0xFFFFFFFF
    attr = _Attr(none, 3 * BLOCK * 4, none, BLOCK * 4, none)
    handle = pa.pa_simple_new(server.encode(), b"av_beacon", 1, sink.encode(), b"clicks",
                              ctypes.byref(_Spec(5, RATE, 1)), None, ctypes.byref(attr), ctypes.byref(err))
    if not handle:
        raise SystemExit(f"pa_simple_new failed: error {err.value}")
    return pa, handle


def audio_loop(pa, handle, period: float, click_seconds: float, events: queue.Queue, started: threading.Event):
    click_len = int(click_seconds * RATE)
    click = array("f", (0.8 * math.sin(2 * math.pi * 2000 * i / RATE) for i in range(click_len)))
    period_samples = int(period * RATE)
    first = int(1.0 * RATE)  # first click 1 s in
    n = 0
    k = 0
    err = ctypes.c_int(0)
    while True:
        block = array("f", bytes(4 * BLOCK))
        click_at = None
        next_click = first + k * period_samples
        for i in range(BLOCK):
            j = n + i - next_click
            if 0 <= j < click_len:
                block[i] = click[j]
                if j == 0:
                    click_at = i
        buf = block.tobytes()
        if pa.pa_simple_write(handle, buf, len(buf), ctypes.byref(err)) < 0:
            raise SystemExit(f"pa_simple_write failed: {err.value}")
        if click_at is not None:
            latency = pa.pa_simple_get_latency(handle, ctypes.byref(err)) / 1e6  # until the last written sample
            now = time.monotonic()
            events.put((k, now + latency - (BLOCK - click_at) / RATE))
            k += 1
        n += BLOCK
        started.set()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--period", type=float, default=1.5)
    ap.add_argument("--click-seconds", type=float, default=0.01)
    ap.add_argument("--flash-ms", type=int, default=150)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--noise", action="store_true")
    a = ap.parse_args()
    root = tk.Tk()
    root.overrideredirect(True)
    root.geometry(f"{a.width}x{a.height}+0+0")
    canvas = tk.Canvas(root, width=a.width, height=a.height, bg="black", highlightthickness=0, bd=0)
    canvas.place(x=0, y=0)
    if a.noise:
        header = b"P6 %d %d 255\n" % (a.width, a.height)
        photo = tk.PhotoImage(data=header + os.urandom(a.width * a.height * 3), format="ppm")
        canvas.create_image(0, 0, image=photo, anchor="nw")

        def renoise() -> None:
            photo.configure(data=header + os.urandom(a.width * a.height * 3), format="ppm")
            root.after(40, renoise)

        root.after(40, renoise)
    pa, handle = open_playback(a.server, a.sink)
    events: queue.Queue = queue.Queue()
    started = threading.Event()
    threading.Thread(target=audio_loop, args=(pa, handle, a.period, a.click_seconds, events, started),
                     daemon=True).start()
    due: list = []

    def poll() -> None:
        while True:
            try:
                due.append(events.get_nowait())
            except queue.Empty:
                break
        now = time.monotonic()
        if due and due[0][1] <= now:
            k, play_at = due.pop(0)
            canvas.configure(bg="white")
            root.update_idletasks()
            root.tk.call("update", "idletasks")
            flash_at = time.monotonic()
            print(json.dumps({"click": k, "play_at": play_at, "flash_at": flash_at}), flush=True)
            root.after(a.flash_ms, lambda: canvas.configure(bg="black"))
        root.after(1, poll)

    def ready() -> None:
        started.wait(5)
        print("ready", flush=True)
        poll()

    root.after(300, ready)
    root.mainloop()


if __name__ == "__main__":
    sys.exit(main())
