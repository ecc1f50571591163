"""Whether a part of an X screen changed since the last look, from the DAMAGE extension (so the recorder can skip
grabbing an unchanged screen) and, when the cursor is drawn into the recording, from the pointer and XFixes.

:class:`DamageWatch` has its own python-xlib connection (mss's XCB one is not reachable from Python), one Damage
object on the root window at the DeltaRectangles level -- the server sends an event for every area that becomes
damaged since the last ``DamageSubtract``, as x11vnc watches a screen -- and, with ``cursor``, follows the pointer
(QueryPointer, one round trip, ~65 us on Xvfb) and the cursor image (XFixes DisplayCursorNotify). The X server does
not report its cursor as damage (checked on Xvfb: warping the pointer raises no DamageNotify), hence the pointer.

``changed(region)`` is called just before each grab the recorder might make. It makes one round trip first (the
pointer query, or a sync) so every event for drawing the server did before the call has arrived, reads them,
subtracts all damage when there was any, and makes one more round trip so the server has done the subtract before the
grab that follows on mss's connection -- so the grab shows everything the subtract cleared, and any later drawing
raises a new event (it is new area again). It returns False only when no damage that arrived touched ``region`` and
the drawn cursor neither moved nor changed image on or near it. Damage that races the subtract is not lost: its
event arrives and is read at the next call, which returns True. A busy screen (changed at ``BUSY_AFTER`` deadlines
in a row) is answered True unasked for ``BUSY_SKIP`` calls at a time; the check after them catches up on all the
damage (a True: busy again at once). So a screen that stops moving is grabbed at most ``2 * BUSY_SKIP + 1``
deadlines longer (~1 s at 30 fps).

``damaged(region)`` is called right after each grab when the recorder converts only what changed
(:mod:`tray.capture.damage_convert`): it makes the same round trip, reads the events, subtracts, and returns the
rectangles of ``region`` (relative to its top-left corner) that were damaged since its last call -- every area the
events named, clipped to the region, and with the cursor drawn a box of ``CURSOR_REACH`` around the pointer's last and
new position when it moved (the span between them: the grab may show it anywhere on the way) or changed image.
Drawing done before the grab is in them (the round trip comes after the grab); drawing done after it is in them too,
and again in the next call's (harmless: the converter compares pixels). Its first call returns None (unknown: what
happened before it started is not known). While it is used, ``changed`` keeps its areas for it, and a change of the
region that ``damaged`` read makes the next ``changed`` say True (drawing between a grab and its ``damaged`` would
otherwise wait for the safety grab).

Pixels written behind the X server's back (some GL/overlay paths, another server's buffers) raise no event; the
recorder's safety grab (:mod:`tray.capture.frame_pacing`, at least once a second) bounds what that can cost.

:func:`open_damage_watch` returns None when there is no DAMAGE extension, no python-xlib, or ``SNAPLARK_X11_DAMAGE=0``
is set (a switch for trouble-shooting and for the benchmark's before/after run): the caller then grabs every tick.
Thread-safety: one thread (the recorder's capture thread).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from tray_platform.base import Region

log = logging.getLogger(__name__)

#: How far around a region a drawn cursor may reach into it (cursor images are at most 64x64 in practice).
CURSOR_REACH = 64
#: More areas than this kept for ``damaged`` become their bounding box (a busy screen sends many small ones).
MAX_AREAS = 64
#: A screen that changed at this many deadlines in a row is "busy": the next BUSY_SKIP calls answer True without
#: asking the server (a moving screen is grabbed every deadline anyway; the events, the subtract and the round trip
#: cost ~0.35 ms of Python per deadline), then one call checks again -- still changed: busy again at once.
BUSY_AFTER, BUSY_SKIP = 30, 15
ENV_SWITCH = "SNAPLARK_X11_DAMAGE"


def _overlaps(x: int, y: int, w: int, h: int, region: Region) -> bool:
    return (x < region.left + region.width and region.left < x + w
            and y < region.top + region.height and region.top < y + h)


def _near(pos: tuple[int, int] | None, region: Region) -> bool:
    if pos is None:
        return True
    x, y = pos
    return (region.left - CURSOR_REACH <= x < region.left + region.width + CURSOR_REACH
            and region.top - CURSOR_REACH <= y < region.top + region.height + CURSOR_REACH)


class DamageWatch:
    """See the module docstring. Build it with :func:`open_damage_watch`."""

    def __init__(self, display: Any, *, cursor: bool) -> None:
        from Xlib.ext import damage, xfixes

        self._display = display
        self._root = display.screen().root
        self._damage_event = display.extension_event.DamageNotify
        self._damage = self._root.damage_create(damage.DamageReportDeltaRectangles)
        self._cursor = cursor
        self._cursor_event = -1  # no event has this type
        if cursor:
            display.xfixes_query_version()
            display.xfixes_select_cursor_input(self._root, xfixes.XFixesDisplayCursorNotifyMask)
            self._cursor_event = display.extension_event.DisplayCursorNotify[0]  # (event code, XFixes sub-code)
        self._pointer: tuple[int, int] | None = None
        self._streak = 0  # deadlines in a row that changed
        self._busy_left = 0  # calls still to answer True unasked
        self._taken_hit = False  # damaged() read a change of the region: the next changed() says True
        self.checks = 0  # calls that asked the server (for tests and benchmarks)
        self._areas: list[tuple[int, int, int, int]] | None = None  # root coordinates, for damaged(); None: unasked
        display.sync()

    def changed(self, region: Region) -> bool:
        """True when ``region`` may have changed since the last call that returned True (see the module
        docstring); the caller grabs right after a True."""
        if self._busy_left:
            self._busy_left -= 1
            return True
        hit = self._check(region) or self._taken_hit
        self._taken_hit = False
        self._streak = self._streak + 1 if hit else 0
        if self._streak >= BUSY_AFTER:  # also right after a busy stretch, when the check found a change again
            self._busy_left = BUSY_SKIP
        return hit

    def damaged(self, region: Region) -> list[tuple[int, int, int, int]] | None:
        """The rectangles (x, y, width, height; relative to ``region``) damaged since the last call, None the first
        time (see the module docstring). Call it right after a grab."""
        first = self._areas is None
        if first:
            self._areas = []
        # a change read here may have come after the grab: the next deadline must grab (at worst once more)
        self._taken_hit = self._poll(region, before_grab=False) or self._taken_hit
        areas, self._areas = self._areas, []
        if first:
            return None
        out = []
        for x, y, w, h in areas:
            x0, y0 = max(x, region.left), max(y, region.top)
            x1, y1 = min(x + w, region.left + region.width), min(y + h, region.top + region.height)
            if x0 < x1 and y0 < y1:
                out.append((x0 - region.left, y0 - region.top, x1 - x0, y1 - y0))
        return out

    def _keep(self, x: int, y: int, w: int, h: int) -> None:
        areas = self._areas
        if areas is None:
            return
        areas.append((x, y, w, h))
        if len(areas) > MAX_AREAS:
            x0, y0 = min(a[0] for a in areas), min(a[1] for a in areas)
            x1, y1 = max(a[0] + a[2] for a in areas), max(a[1] + a[3] for a in areas)
            areas[:] = [(x0, y0, x1 - x0, y1 - y0)]

    def _check(self, region: Region) -> bool:
        self.checks += 1
        return self._poll(region, before_grab=True)

    def _poll(self, region: Region, *, before_grab: bool) -> bool:
        display = self._display
        damaged = hit = cursor_image = False
        # a round trip first: the server answers it only after everything queued before it (the drawing requests
        # of other clients included), so every DamageNotify for drawing done by now has reached this connection --
        # draining first and asking after would leave the last events for the next deadline, a frame late
        if self._cursor:
            pointer = self._root.query_pointer()
        else:
            display.sync()
        while display.pending_events():
            event = display.next_event()
            kind = event.type & 0x7F
            if kind == self._damage_event:
                damaged = True
                a = event.area
                hit = hit or _overlaps(a.x, a.y, a.width, a.height, region)
                self._keep(a.x, a.y, a.width, a.height)
            elif kind == self._cursor_event:
                cursor_image = True
        if damaged:
            display.damage_subtract(self._damage)
            if before_grab:
                display.sync()  # the subtract is done before the grab that follows on mss's connection
            else:
                display.flush()  # the next grab is a deadline away
        if self._cursor:
            pos = (pointer.root_x, pointer.root_y)
            r = CURSOR_REACH
            if pos != self._pointer:
                hit = hit or _near(pos, region) or _near(self._pointer, region)
                old = self._pointer or pos
                x0, y0 = min(pos[0], old[0]) - r, min(pos[1], old[1]) - r
                self._keep(x0, y0, abs(pos[0] - old[0]) + 2 * r, abs(pos[1] - old[1]) + 2 * r)
                self._pointer = pos
            if cursor_image:
                hit = hit or _near(pos, region)
                self._keep(pos[0] - r, pos[1] - r, 2 * r, 2 * r)
        return hit

    def close(self) -> None:
        try:
            self._display.damage_destroy(self._damage)
            self._display.close()
        except Exception:  # noqa: BLE001 - the display may be gone already
            pass


def open_damage_watch(display_name: str | None, *, cursor: bool) -> DamageWatch | None:
    """A :class:`DamageWatch` on ``display_name`` (default ``$DISPLAY``), or None when it cannot work there (no
    python-xlib, no DAMAGE or XFixes extension, the switch set to 0): then grab every tick, as without it."""
    if os.environ.get(ENV_SWITCH, "1").strip() == "0":
        return None
    try:
        from Xlib import display as xdisplay
    except ImportError:
        return None
    try:
        d = xdisplay.Display(display_name or os.environ.get("DISPLAY"))
    except Exception as exc:  # noqa: BLE001 - mss reports a missing display clearly; here: just no hint
        log.info("no X DAMAGE watch: cannot open the display (%s)", exc)
        return None
    try:
        if not d.has_extension("DAMAGE") or (cursor and not d.has_extension("XFIXES")):
            log.info("X server has no DAMAGE/XFIXES extension: every frame is grabbed")
            d.close()
            return None
        d.damage_query_version()
        return DamageWatch(d, cursor=cursor)
    except Exception as exc:  # noqa: BLE001 - any protocol surprise: fall back to grabbing every tick
        log.warning("X DAMAGE watch failed to start, every frame is grabbed: %s", exc)
        d.close()
        return None
