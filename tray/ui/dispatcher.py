"""The one road from any thread into the Tk main thread.

Threading contract
------------------
* Tk is not thread-safe: **only the thread that created the Tk root may touch any Tk object** (widgets,
  ``PhotoImage``, ``after``, variables). In Snaplark that is the main thread.
* Every other thread (tray, hotkeys, upload engine, recorder, notifier) reaches the UI only through
  :meth:`UiDispatcher.post`, which is safe to call from any thread at any time (also before :meth:`run`, and after
  :meth:`stop`, when the callable is silently dropped and ``False`` is returned).
* Posted callables run on the Tk thread, in FIFO order. Where Tk can watch a file descriptor (Unix), ``post``
  writes one byte to a pipe that Tk watches, so the Tk thread wakes only when there is work: an idle app costs no
  CPU and a posted command runs at once. Elsewhere (Windows) a ``root.after`` poll every ``interval_ms`` (default
  15 ms) drains the queue. A callable that raises is logged and does not stop the loop or the ones queued after it.
* :meth:`run` blocks in ``root.mainloop()`` and must be called on the Tk thread. :meth:`stop` may be called from
  any thread: it posts the shutdown, which quits the main loop on the Tk thread.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)


class UiDispatcher:
    """Queue of callables drained on the Tk thread by ``root.after`` (see the module docstring)."""

    def __init__(self, root: Any, *, interval_ms: int = 15, max_per_tick: int = 200) -> None:
        self._root = root
        self._interval_ms = interval_ms
        self._max_per_tick = max_per_tick
        self._queue: queue.Queue[Callable[[], Any]] = queue.Queue()
        self._closed = threading.Event()
        self._after_id: str | None = None
        self._tk_thread: int | None = None
        self._wake_r: int | None = None
        self._wake_w: int | None = None
        self._fd_lock = threading.Lock()
        if os.name == "posix" and hasattr(root, "tk") and hasattr(root.tk, "createfilehandler"):
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            os.set_blocking(self._wake_w, False)

    # -- any thread ---------------------------------------------------------------------------------------------
    def post(self, fn: Callable[[], Any]) -> bool:
        """Run ``fn()`` soon on the Tk thread. Thread-safe. Returns False if the dispatcher is stopped."""
        if not callable(fn):
            raise TypeError("post() needs a callable")
        if self._closed.is_set():
            return False
        self._queue.put(fn)
        self._wake()
        return True

    def _wake(self) -> None:
        with self._fd_lock:  # never write to a descriptor _shutdown closed (its number may be reused)
            if self._wake_w is None:
                return
            try:
                os.write(self._wake_w, b"!")
            except (BlockingIOError, OSError):  # pipe full: the Tk thread has wake-ups pending anyway
                pass

    def stop(self) -> None:
        """Quit the main loop (thread-safe). Callables posted afterwards are dropped."""
        if self._closed.is_set():
            return
        self._queue.put(self._shutdown)
        self._closed.set()
        self._wake()

    @property
    def stopped(self) -> bool:
        return self._closed.is_set()

    def on_ui_thread(self) -> bool:
        """True when called on the thread that runs the dispatcher (the Tk thread)."""
        return self._tk_thread == threading.get_ident()

    # -- Tk thread only ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Begin polling the queue (Tk thread). :meth:`run` calls this; tests that pump ``root.update()``
        themselves call it directly."""
        self._tk_thread = threading.get_ident()
        if self._wake_r is not None and not self._watching:
            import tkinter

            self._root.tk.createfilehandler(self._wake_r, tkinter.READABLE, self._on_wake)
            self._watching = True
            if not self._queue.empty():  # posted before start()
                self._after_id = self._root.after(0, self._tick)
            return
        if self._after_id is None:
            self._after_id = self._root.after(self._interval_ms, self._tick)

    _watching = False

    def _on_wake(self, fd: int, mask: int) -> None:
        try:
            while os.read(fd, 4096):
                pass
        except (BlockingIOError, OSError):
            pass
        self._tick()

    def run(self) -> None:
        """Start polling and block in ``root.mainloop()`` until :meth:`stop` (Tk thread)."""
        self.start()
        self._root.mainloop()

    def drain(self) -> int:
        """Run queued callables now (Tk thread). Returns how many ran."""
        ran = 0
        while ran < self._max_per_tick:
            try:
                fn = self._queue.get_nowait()
            except queue.Empty:
                break
            ran += 1
            try:
                fn()
            except Exception:  # noqa: BLE001 - one bad callable must not kill the UI loop
                log.exception("UI callable %r failed", fn)
        return ran

    def _tick(self) -> None:
        self._after_id = None
        ran = self.drain()
        if self._after_id is not None or self._shutting_down:
            return
        if not self._watching:
            self._after_id = self._root.after(self._interval_ms, self._tick)
        elif ran >= self._max_per_tick:  # more queued than one tick runs: continue without waiting for a wake-up
            self._after_id = self._root.after(0, self._tick)

    _shutting_down = False

    def _shutdown(self) -> None:
        self._shutting_down = True
        if self._after_id is not None:
            try:
                self._root.after_cancel(self._after_id)
            except Exception:  # noqa: BLE001 - root may already be gone
                pass
            self._after_id = None
        if self._watching:
            try:
                self._root.tk.deletefilehandler(self._wake_r)
            except Exception:  # noqa: BLE001
                pass
            self._watching = False
        with self._fd_lock:
            for fd in (self._wake_r, self._wake_w):
                if fd is not None:
                    os.close(fd)
            self._wake_r = self._wake_w = None
        self._root.quit()
