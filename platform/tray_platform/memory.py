"""Giving memory that holds nothing back to the OS: the C heap's free pages, and zero-filled pages a C library
allocated but has not used yet.

glibc's malloc keeps freed memory in its arenas (the main heap and one per thread that allocated) and returns it to
the OS only when the free block sits at the top of a heap. Start-up leaves many small holes: the tray app's heap held
~1.5 MiB of free pages once its icon, hotkeys and upload stack were up (issue 21, benchmarks/hotkey_latency.py).
``malloc_trim(0)`` releases every whole free page of every arena (``madvise``); nothing in use moves.

Zero pages (Linux): libvpx's VP9 encoder allocates a token buffer for the worst case (1080p: 96 MiB, mb_rows x
mb_cols x 772 tokens x 16 B) with ``vpx_calloc``, which zero-fills it with ``memset``: every page becomes resident
at once, while a frame at recording bitrates writes a few MiB of it. :func:`release_zero_pages_mapped_by` runs the
allocating call and then gives back each run of whole pages, all zero, at least ``min_bytes`` long, that lies in
private anonymous memory mapped during the call (``madvise(MADV_DONTNEED)``). Such pages read back as zero and are
faulted in again when written, so what the program sees is unchanged: the release only drops the physical copy of
zeros. Pages are read through ``/proc/self/mem`` (an address unmapped meanwhile is an error there, never a crash);
a page with one non-zero byte, a named or shared mapping, or any address mapped before the call is left alone.
Anything unexpected (no ``/proc``, no ``madvise``) releases nothing.

Threading: any thread (glibc takes each arena's lock in turn). The zero-page release reads and drops memory other
threads could write at the same moment: call it where only the calling thread uses what the call allocated (the
encoder, opened on the thread that encodes, before its first frame), with ``min_bytes`` far above anything the
other threads allocate at once. A run cannot reach into another thread's memory mapped next to the call's: an
address mapped before the call is excluded, and a block malloc maps later lies below (mmap allocates top-down)
behind the non-zero header page of the call's own block. Memory unmapped meanwhile reads short: kept.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
MADV_DONTNEED = 4  # Linux
_SCAN_CHUNK = 4 * 1024 * 1024  # bytes read from /proc/self/mem at a time

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


def _mappings() -> list[tuple[int, int, bool]]:
    """(start, end, private anonymous read-write) of every mapping of this process, from /proc/self/maps."""
    found = []
    with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            start, end = (int(v, 16) for v in fields[0].split("-"))
            anonymous = len(fields) < 6 or not fields[5].strip()  # no path, no [heap]/[stack]/[vdso] name
            found.append((start, end, anonymous and fields[1] == "rw-p" and fields[4] == "0"))
    return found


def _subtract(ranges: list[tuple[int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``ranges`` that lie outside every range of ``taken`` (both lists of [start, end))."""
    out = []
    for start, end in ranges:
        pieces = [(start, end)]
        for t0, t1 in taken:
            pieces = [p for a, b in pieces for p in ((a, min(b, t0)), (max(a, t1), b)) if p[0] < p[1]]
        out.extend(pieces)
    return out


def _zero_runs(mem, start: int, end: int, page: int, min_bytes: int) -> list[tuple[int, int]]:
    """Runs [a, b) of whole pages in [start, end), all bytes zero, at least ``min_bytes`` long."""
    import numpy as np  # lazy: only recordings need it

    buf = bytearray(_SCAN_CHUNK)
    zero = []
    for chunk in range(start, end, _SCAN_CHUNK):
        n = min(_SCAN_CHUNK, end - chunk)
        try:  # unmapped or made inaccessible meanwhile by another thread: a short read or an error
            got = os.preadv(mem, [memoryview(buf)[:n]], chunk) // page * page
        except OSError:
            got = 0
        zero.append(~np.frombuffer(buf, np.uint64, got // 8).reshape(-1, page // 8).any(axis=1))
        zero.append(np.zeros((n - got) // page, bool))  # pages not read are not known to be zero: kept
    edges = np.flatnonzero(np.diff(np.concatenate(([False], *zero, [False])).astype(np.int8)))
    return [(start + int(a) * page, start + int(b) * page) for a, b in zip(edges[::2], edges[1::2])
            if (b - a) * page >= min_bytes]


def release_zero_pages_mapped_by(call: Callable[[], T], *, min_bytes: int) -> tuple[T, int]:
    """Run ``call()``; then give back to the OS the runs (>= ``min_bytes``) of all-zero pages in private anonymous
    memory mapped during it (see the module docstring). Returns ``(call's result, bytes released)``; releases
    nothing (0) where this cannot be done safely: not Linux, no /proc, no madvise."""
    before = None
    if sys.platform.startswith("linux"):
        try:
            before = _mappings()
        except (OSError, ValueError, IndexError) as exc:
            log.debug("no /proc/self/maps (%s): zero pages are not released", exc)
    result = call()
    if before is None:
        return result, 0
    released = 0
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        madvise = libc.madvise
        madvise.argtypes, madvise.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
        new = _subtract([(a, b) for a, b, anon in _mappings() if anon and b - a >= min_bytes],
                        [(a, b) for a, b, _ in before])
        mem = os.open("/proc/self/mem", os.O_RDONLY)
        try:
            runs = [r for a, b in new if b - a >= min_bytes for r in _zero_runs(mem, a, b, page, min_bytes)]
        finally:
            os.close(mem)
        for a, b in runs:
            if madvise(a, b - a, MADV_DONTNEED) == 0:
                released += b - a
            else:
                log.debug("madvise(%#x, %d) failed: errno %d", a, b - a, ctypes.get_errno())
    except (OSError, AttributeError, ValueError, IndexError) as exc:
        log.debug("zero pages not released: %s", exc)
    return result, released
