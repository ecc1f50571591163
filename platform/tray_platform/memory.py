"""Giving the C heap's free pages back to the OS.

glibc's malloc keeps freed memory in its arenas (the main heap and one per thread that allocated) and returns it to
the OS only when the free block sits at the top of a heap. Start-up leaves many small holes: the tray app's heap held
~1.5 MiB of free pages once its icon, hotkeys and upload stack were up (issue 21, benchmarks/hotkey_latency.py).
``malloc_trim(0)`` releases every whole free page of every arena (``madvise``); nothing in use moves.

Threading: any thread (glibc takes each arena's lock in turn).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
_looked_up = False


def _malloc_trim() -> Callable[[int], int] | None:
    global _trim, _looked_up
    if not _looked_up:
        _looked_up = True
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _trim = libc.malloc_trim  # glibc only (musl has none: AttributeError)
                _trim.argtypes, _trim.restype = [ctypes.c_size_t], ctypes.c_int
            except (OSError, AttributeError):
                _trim = None
    return _trim


def trim_heap() -> bool:
    """Return the free pages of the C heap to the OS; True if glibc's ``malloc_trim`` released any, False if there
    was nothing to release or this C library cannot (not glibc)."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
