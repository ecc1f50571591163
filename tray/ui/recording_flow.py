"""Recording from the tray: the selected region (or the first monitor) -> border + countdown -> a
:class:`~tray.recording.RecordingSession` (recorder + the upload it streams into) -> control bar -> stop -> link.

A full-screen recording holds Snaplark's own notifications back until it ends (they would be in the video); the
tray icon shows the state meanwhile. With ``capture.format = "gif"`` nothing streams: the WebM spool becomes a GIF
when the recording stops and is uploaded then (gif_recording.py; at most 60 s, told at the start).

Threading: Tk thread only. The recorder's callbacks and the threads that stop it or wait for its end only ``post``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tray_platform.base import Region

from tray.ui.capture_flow import CaptureFlow
from tray.ui.context import TrayContext
from tray.ui.recent_uploads import RecentUploads

log = logging.getLogger(__name__)


@dataclass
class ActiveRecording:
    session: Any  # tray.recording.RecordingSession
    region: Region
    path: Path
    control: Any = None  # None: no room outside the region (full screen) and the OS cannot hide it from capture
    border: Any = None
    full_screen: bool = False  # our notifications are held back until it ends (they would be in the video)
    gif: bool = False  # capture.format = "gif": the spool (WebM, not streamed) becomes a GIF at the end


class RecordingFlow:
    def __init__(self, ctx: TrayContext, capture: CaptureFlow, recent: RecentUploads):
        self.ctx = ctx
        self.capture = capture
        self.recent = recent
        self.active: ActiveRecording | None = None
        self.countdown: Any = None  # the 3-2-1 before a recording (tray.ui.countdown); the recorder starts after it

    def record_region(self) -> None:
        if self.active is None and self.countdown is None:
            self.capture.select(lambda region, frozen, screen: self.start(region, screen))

    def record_screen(self) -> None:
        if self.active is not None or self.countdown is not None or self.capture.busy:
            return
        from tray.capture.backends import default_display_info

        display = default_display_info()
        monitors = display.monitors()
        region = monitors[0].region if monitors else display.virtual_screen()
        self.start(region, display.virtual_screen())

    def start(self, region: Region, screen: Region) -> None:
        """Validate the target, show the border and the countdown (Esc cancels), then :meth:`_begin`.
        The countdown is ours, not the recorder's: the recorder (its file, its upload session) starts only when
        the countdown is over, so a cancelled one leaves nothing behind. A full-screen recording holds our
        notifications back from the countdown on (one shown now would still be on screen when recording starts)."""
        from tray.capture.audio import audio_spec
        from tray.capture.encoder import recording_format
        from tray.capture.webcam_bubble import webcam_from_settings
        from tray.capture.recorder import RecorderState
        from tray.recording import RecordingSession, recording_path
        from tray.ui.recording_border import RecordingBorder
        from tray.ui.recording_control import covers_a_monitor

        ctx = self.ctx
        ctx.warm_upload_path()
        settings = ctx.settings
        cap = settings.capture
        gif = cap.format == "gif"  # a WebM spool, converted when it stops (gif_recording.py)
        fmt = recording_format("webm" if gif else cap.format)  # capture.format: webm, mp4 or gif
        path = recording_path(settings.upload.ensure_save_dir(), ext=fmt.extension)
        max_duration = float(cap.max_duration)
        if gif:
            from tray.capture.gif import gif_max_duration

            max_duration = gif_max_duration(max_duration)
        streamed = settings.upload.auto_upload and not gif
        webcam = webcam_from_settings(cap)  # the webcam bubble, or None

        def on_state(state: RecorderState) -> None:  # recorder threads
            ctx.post(lambda: ctx.tray.set_recording(
                state in (RecorderState.RECORDING, RecorderState.PAUSED), paused=state is RecorderState.PAUSED))

        def on_audio_failure(failure: Any) -> None:  # a recorder thread; told once per failure, video goes on
            ctx.post(lambda: ctx.notify_error("Recording without sound", failure.message))

        session = RecordingSession(
            path, uploader=ctx.stack.engine if streamed else None, on_state=on_state,
            on_upload=lambda upload: ctx.progress.recording_started(upload, session.elapsed),  # "Recording 00:12"
            format=fmt.name, region=region, fps=cap.fps, bitrate=cap.bitrate, cursor=cap.cursor,
            max_duration=max_duration, audio=audio_spec(cap.audio, cap.mic_device), webcam=webcam,
            on_audio_failure=on_audio_failure)
        try:
            session.prepare()  # bad region, no display: told now, before any countdown
        except Exception as exc:  # noqa: BLE001
            ctx.notify_error("Recording failed to start", str(exc))
            return
        rec = ActiveRecording(session, region, path, full_screen=covers_a_monitor(region, self._monitors()),
                              gif=gif)
        notice = ""
        if gif:
            from tray.ui.gif_recording import limit_notice

            notice = limit_notice(max_duration)
            log.info("%s", notice)
        if rec.full_screen:
            ctx.notification_hold.hold()
        # What is recorded (even-sized, inside the selection) gets the border just outside it, from now on.
        rec.border = RecordingBorder(ctx.root, session.region, screen)
        if cap.countdown <= 0:
            self._begin(rec, screen)
            if notice and self.active is rec and not rec.full_screen:  # (held, it would come after the clip)
                ctx.confirm("GIF recording", notice)
            return
        from tray.ui.countdown import CountdownOverlay

        preview: Any = None  # the webcam bubble's stand-in, dragged during the countdown (webcam_preview.py)

        def counted_down() -> None:
            self.countdown = None
            if preview is not None:
                self._bubble_placed(rec, screen, webcam, preview)
                return
            self._begin(rec, screen)

        def cancelled() -> None:
            self.countdown = None
            if preview is not None:
                preview.close()
            self._not_started(rec)
            log.info("recording cancelled during the countdown; nothing was recorded")

        stop_key = ctx.hotkey_display("stop_recording")
        hint = f"Esc to cancel · {stop_key} stops" if stop_key else "Esc to cancel"
        if gif:
            hint = f"GIF · at most {max_duration:g} s · {hint}"
        # (with the bubble's stand-in on screen the countdown holds no pointer grab: the stand-in is dragged)
        self.countdown = CountdownOverlay(ctx.root, session.region, screen, cap.countdown,
                                          on_done=counted_down, on_cancel=cancelled, hint=hint, grab=webcam is None)
        if webcam is not None:
            from tray.ui.webcam_preview import BubblePreview

            preview = BubblePreview(ctx.root, session.region, webcam, on_escape=self.stop)
        ctx.tray.set_recording(True)  # the menu's Stop item cancels the countdown

    def _bubble_placed(self, rec: ActiveRecording, screen: Region, webcam: Any, preview: Any) -> None:
        """The countdown is over: the bubble goes where its stand-in was left; the stand-in goes (and is gone from
        the screen, a round trip and a moment later) before the recorder starts."""
        import dataclasses

        rec.session.recorder.webcam = dataclasses.replace(webcam, position=preview.position)
        preview.close()
        try:
            self.ctx.root.winfo_pointerxy()  # a round trip: the X server has removed it
        except Exception:  # noqa: BLE001
            pass
        self.ctx.root.after(150, lambda: self._begin(rec, screen))

    def _begin(self, rec: ActiveRecording, screen: Region) -> None:
        """Start the recorder; show the control bar outside the recorded area (none for a full-screen recording
        where the OS cannot keep it out of the capture: the tray icon and the hotkeys control it then), and hold
        our notifications back during a full-screen recording (the tray icon shows the state meanwhile)."""
        from tray.ui.recording_control import open_control
        from tray.ui.tray_icon import TrayState

        ctx = self.ctx
        try:
            rec.session.start()  # publishes RECORDING: the clock starts at 0 now
        except Exception as exc:  # noqa: BLE001 - disk, encoder: tell the user
            self._not_started(rec)
            ctx.notify_error("Recording failed to start", str(exc))
            return
        session = rec.session
        rec.control = open_control(ctx.root, session.region, screen, on_stop=self.stop,
                                   on_toggle_pause=self.toggle_pause, elapsed=session.elapsed,
                                   paused=lambda: session.paused, microphone=session.microphone)
        if rec.control is None and not rec.full_screen:  # no room around it: full screen in all but name
            rec.full_screen = True
            ctx.notification_hold.hold()
        self.active = rec
        ctx.tray.set_recording(True)
        ctx.tray.set_state(TrayState.RECORDING, elapsed=0)
        self._watch(rec)
        log.info("recording %s to %s%s", rec.region, rec.path,
                 " (full screen: notifications held" + ("" if rec.control else ", no control bar") + ")"
                 if rec.full_screen else "")

    def _not_started(self, rec: ActiveRecording) -> None:
        rec.border.close()
        self.ctx.tray.set_recording(False)
        self._show_held_notifications(rec)

    def _show_held_notifications(self, rec: ActiveRecording) -> None:
        if rec.full_screen:
            for show in self.ctx.notification_hold.release():
                show()

    @staticmethod
    def _monitors() -> list:
        from tray.capture.backends import default_display_info

        try:
            return default_display_info().monitors()
        except Exception:  # noqa: BLE001 - then only the control bar's placement decides what is full screen
            return []

    def _watch(self, rec: ActiveRecording) -> None:
        """Notice a recording that ended by itself (max duration, disk full) and finish it like a stop."""
        def watch() -> None:
            rec.session.wait(None)
            self.ctx.post(lambda: self._ended(rec))

        threading.Thread(target=watch, name="recording-watch", daemon=True).start()

    def stop(self) -> None:
        if self.countdown is not None:
            self.countdown.cancel()
            return
        rec = self.active
        if rec is None:
            return
        threading.Thread(target=lambda: rec.session.stop(timeout=60), name="recording-stop", daemon=True).start()

    def _ended(self, rec: ActiveRecording) -> None:
        from tray.ui.tray_icon import TrayState

        if self.active is not rec:
            return
        ctx = self.ctx
        self.active = None
        if rec.control is not None:
            rec.control.close()
        if rec.border is not None:
            rec.border.close()
        self._show_held_notifications(rec)
        ctx.tray.set_recording(False)
        ctx.tray.set_state(TrayState.IDLE)
        auto_upload = ctx.settings.upload.auto_upload
        result = rec.session.result
        if rec.gif:
            self._finish_gif(rec, result, auto_upload)
            return
        if result is not None and result.error:
            ctx.notify_error("Recording stopped", f"{result.error}. What was recorded is kept at {rec.path}"
                             + (" and is being uploaded." if auto_upload else "."))
        for upload in rec.session.uploads:
            self.recent.await_url(upload, copy=True)
        if not auto_upload:
            ctx.notifier.notify("Recording saved", str(rec.path))

    def _finish_gif(self, rec: ActiveRecording, result: Any, auto_upload: bool) -> None:
        from tray.ui.gif_recording import GifFinisher

        if result is not None and result.error:
            self.ctx.notify_error("Recording stopped", f"{result.error}. What was recorded becomes a GIF.")
        engine = self.ctx.stack.engine if auto_upload else None
        GifFinisher(self.ctx, engine.upload_screenshot if engine is not None else None,
                    lambda upload: self.recent.await_url(upload, copy=True),
                    history=getattr(self.ctx.stack, "history", None)).finish(result, rec.path)

    def toggle_pause(self) -> None:
        if self.active is not None:
            self.active.session.toggle_pause()

    def shutdown(self) -> None:
        """The app quits: stop a running recording (the upload engine keeps the file; it finishes at the next
        start). Blocks up to 30 s."""
        if self.active is not None:
            rec = self.active
            self.active = None
            rec.session.stop(timeout=30)
