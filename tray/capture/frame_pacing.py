"""The recorder's capture thread: countdown, frames grabbed on a deadline grid, identical frames skipped.

:class:`CaptureLoop` runs on ``snaplark-capture`` and owns its ``ScreenCapture`` (the mss connection, opened and
closed on this thread). It paces grabs on deadlines ``t0 + k / fps`` from the injected monotonic ``clock``: a grab
that is a little late happens at once and the grid is kept (the next ones catch up), but more than
:data:`MAX_CATCH_UP_SECONDS` behind, the missed deadlines are given up (counted in ``late_ticks``) instead of
bursting. A frame byte-identical to the last queued one is not queued (VFR), except one keep-alive frame per
``keepalive`` seconds so clusters keep closing (durability and crash duration stay within ~1 s on a static screen).
A backend that can tell an unchanged screen without grabbing (``capture.changed(region)``: X DAMAGE on X11) lets a
deadline pass with no grab at all when it says nothing changed (``grabs_skipped_unchanged``; the grab, the compare
and the conversion are what a still screen costs), except one safety grab per :data:`SAFETY_GRAB_SECONDS` and the
keep-alive, so a missed change can never freeze the video for longer. A hinted grab shows a change at the same
deadline a plain grab would (the damage watch makes its round trip to the server before it reads the events), so the
hint is used with sound too (A/V sync: tests/e2e/audio/test_audio_e2e.py).
Queued frames are converted to yuv420p here, so conversion and encoding overlap. With damage conversion asked for
(opt-in: :func:`tray.capture.damage_convert.enabled`), a backend that can also tell which rectangles changed
(``capture.damaged(region)``, asked right after each grab: X DAMAGE areas) gets only those converted where the
pixels really differ (:mod:`tray.capture.damage_convert`), with a whole conversion at least once per
:data:`SAFETY_GRAB_SECONDS` (``frames_converted_partial``). The queue put never blocks: a full queue drops the frame
(``frames_dropped``).
A capture that draws an overlay over the screen (the webcam bubble: :mod:`tray.capture.webcam_bubble`) may offer
``capture.refresh(last, frame)``: at a deadline with no grab (the screen still) it is asked for a new frame with the
overlay drawn again over ``last`` (the BGRA picture of the last queued ``frame``, updated in place) and only its
square converted (``frames_redrawn``); None: nothing new to show.

The queue carries :class:`QueuedFrame` items and ends with exactly one :class:`EndOfRecording` (also after a capture
error or a stop during the countdown), which the encoder thread (:mod:`tray.capture.encode_loop`) waits for.

Threading: :meth:`CaptureLoop.run` is the thread's body; it is the queue's only producer. Pause, resume and stop
reach it through the shared :class:`~tray.capture.recording_state.RecorderControl`.
"""

from __future__ import annotations

import logging
import queue
from dataclasses import dataclass
from typing import Callable

from tray_platform.base import Region, ScreenCapture

from tray.capture import damage_convert
from tray.capture.recording_state import RecorderControl, RecorderState, RecordingStats

log = logging.getLogger(__name__)

MAX_CATCH_UP_SECONDS = 0.25  # a late capture thread catches up missed deadlines up to this far behind
SAFETY_GRAB_SECONDS = 1.0  # with a change hint, grab at least this often anyway (a missed event costs <= this)


@dataclass
class QueuedFrame:
    pts_ms: int
    frame: object  # av.VideoFrame, yuv420p at the output size


@dataclass
class EndOfRecording:
    end_ms: int  # output time of the stop moment; -1: stopped during the countdown
    error: str | None = None


class CaptureLoop:
    def __init__(self, *, control: RecorderControl, frames: queue.Queue, stats: RecordingStats,
                 capture_factory: Callable[[], ScreenCapture], make_converter: Callable[[], Callable],
                 region: Region, fps: int, countdown: int, max_duration: float, keepalive: float,
                 clock: Callable[[], float], sleeper: Callable[[float], None],
                 on_countdown: Callable[[int], None] | None, encoder_alive: Callable[[], bool]) -> None:
        self._control = control
        self._frames = frames
        self._stats = stats
        self._capture_factory = capture_factory
        self._make_converter = make_converter  # called on this thread (a converter belongs to one thread)
        self._region = region
        self._fps = fps
        self._countdown = countdown
        self._max_duration = max_duration
        self._keepalive = keepalive
        self._clock = clock
        self._sleeper = sleeper
        self._on_countdown = on_countdown
        self._encoder_alive = encoder_alive

    def run(self) -> None:
        control = self._control
        end = EndOfRecording(0)
        try:
            if self._countdown:
                for n in range(self._countdown, 0, -1):
                    if control.stop_requested():
                        break
                    if self._on_countdown is not None:
                        self._on_countdown(n)
                    self._sleeper(1.0)
                if not control.set_state(RecorderState.RECORDING):
                    end.end_ms = -1  # stopped during the countdown
                    return
            end = self._grab_frames()
        except Exception as exc:  # noqa: BLE001 - becomes sink.failed + a clean finish
            log.exception("capture failed")
            end.error = f"capture failed: {type(exc).__name__}: {exc}"
            if control.t0 is not None:
                end.end_ms = control.output_ms(self._clock())
        finally:
            self._put_end(end)

    def _grab_frames(self) -> EndOfRecording:
        control = self._control
        capture = self._capture_factory()
        try:
            region = self._region
            interval = 1.0 / self._fps
            prev: bytes | bytearray | None = None
            frame = None  # the last queued frame, converted
            last_queued_at = last_grab_at = float("-inf")
            changed = getattr(capture, "changed", None)  # optional change hint (X DAMAGE)
            stats = self._stats
            max_duration = self._max_duration
            max_ms = round(max_duration * 1000)
            max_lag = max(MAX_CATCH_UP_SECONDS, 2 * interval)
            convert = self._make_converter()
            # optional damaged rectangles (X DAMAGE): only what changed is converted
            damaged = getattr(capture, "damaged", None) if damage_convert.enabled() else None
            if damaged is not None:
                convert = damage_convert.DamageConverter(convert)
            # optional overlay drawn again without a grab while the screen is still (the webcam bubble); not with
            # damage conversion, whose copy of the last frame would not have it
            refresh = getattr(capture, "refresh", None) if damaged is None else None
            last_full_at = float("-inf")
            t0 = next_tick = control.start_output()
            while True:
                check = control.wait_while_paused()
                if check.stopped_at is not None:
                    stop_at = check.stopped_at
                    break
                paused_total = check.paused_total
                now = self._clock()
                if check.was_paused:
                    next_tick = now  # deadlines restart at resume
                if max_duration and round((now - t0 - paused_total) * 1000) >= max_ms:
                    stop_at = t0 + paused_total + max_duration
                    control.set_state(RecorderState.STOPPING)
                    break
                if now < next_tick:
                    self._sleeper(next_tick - now)
                    continue
                if now - next_tick > max_lag:  # far behind: give up the missed deadlines rather than burst
                    missed = int((now - next_tick) / interval)
                    stats.late_ticks += missed
                    next_tick += missed * interval
                next_tick += interval  # a little late: grab now and keep the grid (catches up, like x11grab)
                if (changed is not None and not changed(region) and prev is not None
                        and now - last_grab_at < SAFETY_GRAB_SECONDS - 1e-6
                        and now - last_queued_at < self._keepalive - 1e-6):
                    stats.ticks += 1
                    redrawn = None
                    if refresh is not None and frame is not None and not self._frames.full():
                        redrawn = refresh(prev, frame)  # draws into prev: it stays the queued frame's picture
                    if redrawn is None:
                        stats.grabs_skipped_unchanged += 1
                        continue
                    frame = redrawn
                    self._frames.put_nowait(QueuedFrame(round((now - t0 - paused_total) * 1000), frame))
                    stats.frames_queued += 1
                    stats.frames_redrawn += 1
                    last_queued_at = now
                    continue
                width, height, data = capture.grab(region)
                if damaged is not None:
                    convert.damage(damaged(region))
                stats.ticks += 1
                last_grab_at = now
                pts = round((now - t0 - paused_total) * 1000)
                same = prev is not None and data == prev
                if same:
                    if now - last_queued_at < self._keepalive - 1e-6:
                        stats.frames_skipped_identical += 1
                        continue
                    stats.frames_keepalive += 1
                if self._frames.full():  # only this thread puts, so a put after this check cannot block
                    stats.frames_dropped += 1
                    last_grab_at = float("-inf")  # the change hint was spent on this frame: grab again next tick
                    continue
                if not same:  # a keep-alive re-sends the converted frame (the encoder may encode one again)
                    if damaged is None:
                        frame = convert(width, height, data)
                    else:
                        full = now - last_full_at >= SAFETY_GRAB_SECONDS - 1e-6
                        last_full_at = now if full else last_full_at
                        frame = convert(width, height, data, full=full)
                        stats.frames_converted_partial = convert.frames_partial
                self._frames.put_nowait(QueuedFrame(pts, frame))
                stats.frames_queued += 1
                prev, last_queued_at = data, now
            return EndOfRecording(control.output_ms(control.end_moment(stop_at, max_duration)))
        finally:
            capture.close()

    def _put_end(self, end: EndOfRecording) -> None:
        while True:
            try:
                self._frames.put(end, timeout=0.5)
                return
            except queue.Full:
                if not self._encoder_alive():
                    return
