"""The tray application: wires the tray icon, hotkeys, selector, annotator, recorder, upload engine and
notifications together (built by :func:`tray.app.run_tray`; it imports the services it uses from
:mod:`tray.services`, never ``tray.app`` or ``tray.commands``).

Threading (DESIGN.md): this object lives on the Tk main thread. The tray icon (pystray), the hotkey listener
(pynput), the single-instance socket and the upload workers run on their own threads and reach the UI only through
``dispatcher.post``. Slow work (stopping the encoder, waiting for an upload's URL) runs on short-lived worker
threads, never on the Tk thread. Command methods (``capture_region`` ...) must be called on the Tk thread.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from tray_platform.base import Region

from tray import paths

log = logging.getLogger(__name__)


@dataclass
class ActiveRecording:
    session: Any  # tray.recording.RecordingSession
    region: Region
    path: Path
    control: Any = None  # None: no room outside the region (full screen) and the OS cannot hide it from capture
    border: Any = None
    full_screen: bool = False  # our notifications are held back until it ends (they would be in the video)


class DesktopApp:
    """See module docstring. ``run()`` blocks in the Tk main loop until Quit."""

    def __init__(self, settings: Any, *, config_path: Path | None = None, first_run: bool = False):
        self.settings = settings
        self.config_path = config_path
        self.first_run = first_run
        self.root: Any = None
        self.dispatcher: Any = None
        self.stack: Any = None
        self.tray: Any = None
        self.hotkeys: Any = None
        self.notifier: Any = None
        self.progress: Any = None
        self.clipboard: Any = None
        self.instance: Any = None
        self.recording: ActiveRecording | None = None
        self.countdown: Any = None  # the 3-2-1 before a recording (tray.ui.countdown); the recorder starts after it
        from tray.ui.notification_hold import NotificationHold

        self.notification_hold = NotificationHold()
        self.annotator: Any = None
        self.selector: Any = None
        self._busy = False  # a selector is open
        self._ticks = 0
        self._quit = threading.Event()

    @classmethod
    def from_args(cls, args: Any) -> "DesktopApp":
        from tray import config

        path = config.resolve_path(getattr(args, "config", None))
        first_run = not path.exists()
        settings = config.load_config(path)
        if first_run:
            try:
                config.save_config(settings, path)
            except OSError as exc:
                log.warning("could not write the default settings to %s: %s", path, exc)
        return cls(settings, config_path=path, first_run=first_run)

    # ------------------------------------------------------------------ lifecycle
    def run(self) -> int:
        from tray.ui.single_instance import SingleInstance

        self.instance = SingleInstance(paths.data_dir() / "instance.sock", config_file=self.config_path)
        if not self.instance.acquire():
            return self.instance.hand_over()  # same settings file: it captures a region; another: refused, exit 1
        try:
            return self._run()
        finally:
            self.instance.close()

    def _run(self) -> int:
        if not os.environ.get("DISPLAY") and sys.platform.startswith("linux") and not os.environ.get(
                "WAYLAND_DISPLAY"):
            print("snaplark: no display (DISPLAY is not set). The tray app needs a desktop session; "
                  "use `snaplark upload`, `snaplark shot` or `snaplark record` against an X display instead.",
                  file=sys.stderr)
            return 2
        import tkinter as tk

        from tray.services import UploadStack
        from tray.ui.dispatcher import UiDispatcher
        from tray.ui.notifications import ProgressNotifier, open_notifier

        self.root = tk.Tk(className="snaplark")
        self.root.withdraw()
        self.dispatcher = UiDispatcher(self.root)
        if self.settings.notifications.enabled:
            self.notifier = open_notifier().notifier  # tells the user itself when it had to fall back
        else:
            from tray_platform.fallback.notify import LogNotifier

            self.notifier = LogNotifier()
        self.clipboard = self._open_clipboard()
        self.progress = ProgressNotifier(self.notifier, copy_link=self.copy_link, post=self.dispatcher.post,
                                         on_login=lambda: self.dispatcher.post(self.login),
                                         show_progress=self.settings.notifications.progress)
        try:
            # The icon and hotkeys first (the user sees the app at once); commands they post run only once the
            # main loop starts, after the upload stack below is open.
            self._start_tray()
            self._start_hotkeys()
            try:
                self.stack = UploadStack(self.settings, on_event=self._on_upload_event, lazy_server=True).open()
            except Exception as exc:  # noqa: BLE001 - the app cannot upload; say why and stop
                self._notify_error("Snaplark cannot start", str(exc))
                print(f"snaplark: {exc}", file=sys.stderr)
                return 1
            embedded = self.stack.connection.embedded
            if embedded is not None:  # it starts on first use: a failure then is told, not just logged
                embedded.on_failed = lambda exc: self.dispatcher.post(lambda: self._notify_error(
                    "Snaplark's local server could not start",
                    f"{exc}. Uploads wait until it can; see the log, or set server.url to another server."))
            self.instance.serve(lambda cmd: self.dispatcher.post(getattr(self, cmd)))
            resumed = self.stack.engine.resume_all()
            if resumed:
                log.info("resuming %d unfinished upload(s)", len(resumed))
                for upload in resumed:
                    self._await_url(upload, copy=False)
            self._load_recent()
            if self.first_run:
                self._welcome()
            self.root.after(500, self._tick)
            log.info("tray app running (pid %d)", os.getpid())
            self.dispatcher.run()
        finally:
            self._shutdown()
        return 0

    def _shutdown(self) -> None:
        if self.recording is not None:
            rec = self.recording
            self.recording = None
            rec.session.stop(timeout=30)  # the upload engine keeps the file; it finishes at the next start
        if self.hotkeys is not None:
            self.hotkeys.stop()
        if self.tray is not None:
            self.tray.stop()
        if self.stack is not None:
            self.stack.close()
        close = getattr(self.notifier, "close_connection", None)
        if close:
            close()

    def _tick(self) -> None:
        """Twice a second on the Tk thread: flush held-back progress, refresh the recording tooltip."""
        if self.progress is not None and not self.notification_hold.held:
            self.progress.tick()
        self._ticks += 1
        if self.tray is not None and not self.tray.available and self._ticks % 10 == 0:
            self.tray.check_host()  # a panel that starts after us (login races) still gets the icon
        if self.recording is not None and self.tray is not None:
            from tray.ui.tray_icon import TrayState

            self.tray.set_state(TrayState.RECORDING, elapsed=self.recording.session.elapsed())
        if not self.dispatcher.stopped:
            self.root.after(500, self._tick)

    # ------------------------------------------------------------------ wiring
    def _start_tray(self) -> None:
        from tray.ui.tray_icon import TrayIcon

        self.tray = TrayIcon(self, self.dispatcher.post, capture_hotkey=self._hotkey_display("capture_region"),
                             on_unavailable=lambda msg: self._notify_error("Snaplark", msg))
        self.tray.start()

    def _start_hotkeys(self) -> None:
        from tray.ui.hotkeys import GlobalHotkeys

        hk = self.settings.hotkeys
        bindings = {
            "capture_region": (hk.capture_region, self.capture_region),
            "capture_screen": (hk.capture_screen, self.capture_screen),
            "record_region": (hk.record_region, self.record_region),
            "stop_recording": (hk.stop_recording, self.stop_recording),
            "pause_recording": (hk.pause_recording, self.toggle_pause),
        }
        bindings = {k: v for k, v in bindings.items() if v[0]}
        self.hotkeys = GlobalHotkeys(bindings, self.dispatcher.post,
                                     on_problem=lambda p: self._notify_warning("Hotkey not registered", p.message))
        self.hotkeys.start()

    def _hotkey_display(self, name: str) -> str:
        value = getattr(self.settings.hotkeys, name, "")
        if not value:
            return ""
        from tray.ui.hotkeys import HotkeyError, parse_hotkey

        try:
            return parse_hotkey(f"hotkeys.{name}", value).display()
        except HotkeyError:
            return ""

    def _open_clipboard(self) -> Any:
        from tray_platform.base import choose_backend

        try:
            return choose_backend("clipboard", env_var="SNAPLARK_CLIPBOARD", root=self.root).backend
        except Exception as exc:  # noqa: BLE001
            log.warning("no clipboard: %s", exc)
            return None

    def _welcome(self) -> None:
        keys = ", ".join(f"{label} {self._hotkey_display(name)}" for name, label in (
            ("capture_region", "capture"), ("record_region", "record"), ("stop_recording", "stop"))
            if self._hotkey_display(name))
        self.notifier.notify("Snaplark is ready",
                             f"{keys}. Links go to your clipboard. Left-click the tray icon to capture a region.")

    def _notify_error(self, title: str, body: str, *, urgency: str = "critical",
                      timeout: float | None = None) -> None:
        log.warning("%s: %s", title, body)

        def show() -> None:
            try:
                extra = {} if timeout is None else {"timeout": timeout}
                self.notifier.notify(title, body, urgency=urgency, **extra)
            except Exception:  # noqa: BLE001 - notifications are best effort
                log.exception("notification failed")

        if not self.notification_hold.offer(None, show):  # held: a full-screen recording shows it when it ends
            show()

    WARNING_SECONDS = 12.0  # a warning the app keeps working around goes away by itself

    def _notify_warning(self, title: str, body: str) -> None:
        """Something to know, nothing to act on at once (a hotkey taken, nothing opened a folder): normal urgency,
        closes by itself."""
        self._notify_error(title, body, urgency="normal", timeout=self.WARNING_SECONDS)

    def _on_upload_event(self, event: Any) -> None:
        """Upload worker threads: progress notification + tray state."""
        if not self.notification_hold.offer((getattr(event, "upload_id", None), type(event).__name__),
                                            lambda: self.progress.on_event(event)):
            self.progress.on_event(event)
        if self.tray is not None:
            self.tray.show_upload_event(event)  # needs-login / offline marks and the Log in item; a recording wins

    def _load_recent(self) -> None:
        from tray.ui.tray_icon import RecentUpload

        try:
            rows = self.stack.journal.history(10)
        except Exception as exc:  # noqa: BLE001 - the menu just stays empty
            log.debug("history unavailable: %s", exc)
            return
        self.tray.set_recent([RecentUpload.from_history(row) for row in rows])  # "Recording 2:41 · 14:05"

    # ------------------------------------------------------------------ screenshots
    def _grab_everything(self) -> tuple[Any, Region, list]:
        from tray.capture.backends import default_display_info
        from tray.capture.screenshot import capture_image

        display = default_display_info()
        screen = display.virtual_screen()
        return capture_image(None, display_info=display, cursor=False), screen, display.monitors()

    def _select(self, on_region: Callable[[Region, Any, Region], None]) -> None:
        """Freeze the screen, show the selector, call ``on_region(region, frozen, screen)`` on confirm."""
        if self._busy:
            return
        from tray.ui.selector import RegionSelector

        try:
            frozen, screen, monitors = self._grab_everything()
        except Exception as exc:  # noqa: BLE001 - no display / capture failure: tell the user
            self._notify_error("Capture failed", str(exc))
            return
        self._busy = True

        def done(region: Region | None) -> None:
            self._busy = False
            self.selector = None
            if region is None:
                return
            on_region(region, frozen, screen)

        self.selector = RegionSelector(self.root, frozen, (screen.left, screen.top), done, monitors=monitors)
        log.info("selector shown over %s", screen)
        self.selector.canvas.bind("<Expose>", lambda e: self.root.after_idle(  # for benchmarks/hotkey_latency.py
            lambda: log.info("selector painted at %.6f", time.time())), add="+")
        self.root.after(300, self._warm_upload_path)  # the user is choosing a region: time to wake the server

    def _warm_upload_path(self) -> None:
        """An upload is likely soon: wake the server side (``ServerConnection.warm``)."""
        if self.stack is not None and self.stack.connection is not None:
            self.stack.connection.warm()

    def capture_region(self) -> None:
        from tray.ui.selector import crop_to_region

        self._select(lambda region, frozen, screen: self._annotate(
            crop_to_region(frozen, region, (screen.left, screen.top))))

    def capture_screen(self) -> None:
        if self._busy:
            return
        self._warm_upload_path()
        try:
            frozen, _, _ = self._grab_everything()
        except Exception as exc:  # noqa: BLE001
            self._notify_error("Capture failed", str(exc))
            return
        self._annotate(frozen)

    def _annotate(self, image: Any) -> None:
        from tray.ui.annotator.prefs import AnnotatorPrefsStore
        from tray.ui.annotator.window import AnnotatorWindow

        if self.annotator is not None and not self.annotator.closed:
            self.annotator.close()
        # on_save=None: the annotator's Save asks with the desktop's save dialog, starting in the captures folder;
        # the tool, colour and width carry over to the next annotator (data dir, annotator.json)
        self.annotator = AnnotatorWindow(self.root, image, on_upload=self.upload_png, on_save=None,
                                         on_copy=self._copy_image, prefs=AnnotatorPrefsStore(),
                                         save_dir=self.settings.upload.resolved_save_dir())
        self._log_when_mapped(self.annotator)

    def _log_when_mapped(self, annotator: Any, tries: int = 100) -> None:
        """Log where the annotator's canvas landed on screen once it is mapped (scripts and tests use it)."""
        canvas = annotator.canvas
        if canvas.winfo_viewable() or tries <= 0:
            log.info("annotator shown: image %dx%d, canvas at %d,%d scale %.3f", annotator.document.size[0],
                     annotator.document.size[1], canvas.winfo_rootx(), canvas.winfo_rooty(), annotator.scale)
            return
        self.root.after(20, lambda: self._log_when_mapped(annotator, tries - 1))

    def _save_capture(self, png: bytes) -> Path:
        from tray.captures import save_atomically, screenshot_path

        return save_atomically(png, screenshot_path(self.settings.upload.ensure_save_dir()))

    def upload_png(self, png: bytes) -> None:
        """Keep the PNG locally, queue it durably, put the link on the clipboard when it arrives."""
        path = self._save_capture(png)
        upload = self.stack.engine.upload_screenshot(path)
        log.info("screenshot saved to %s and queued for upload", path)
        if self.annotator is not None and not self.annotator.closed:
            self.annotator.close()  # like Flameshot: the notification and the clipboard take it from here
        self._await_url(upload, copy=True)

    def _copy_image(self, png: bytes) -> None:
        if self.clipboard is not None:
            self.clipboard.copy_image_png(png)

    def _await_url(self, upload: Any, *, copy: bool) -> None:
        def wait() -> None:
            try:
                url = upload.wait(None)
            except Exception as exc:  # noqa: BLE001 - FAILED: the notifier already told the user
                log.warning("upload %s failed: %s", getattr(upload, "id", "?"), exc)
                return
            self.dispatcher.post(lambda: self._uploaded(url, upload, copy))

        threading.Thread(target=wait, name=f"await-upload-{getattr(upload, 'id', '?')}", daemon=True).start()

    def _uploaded(self, url: str, upload: Any, copy: bool) -> None:
        log.info("uploaded: %s", url)
        if copy:
            self.copy_link(url, confirm=False)  # the upload's own notification shows the link
        self._load_recent()  # the journal wrote the history row before the upload counted as completed

    # ------------------------------------------------------------------ recording
    def record_region(self) -> None:
        if self.recording is None and self.countdown is None:
            self._select(lambda region, frozen, screen: self._start_recording(region, screen))

    def record_screen(self) -> None:
        if self.recording is not None or self.countdown is not None or self._busy:
            return
        from tray.capture.backends import default_display_info

        display = default_display_info()
        monitors = display.monitors()
        region = monitors[0].region if monitors else display.virtual_screen()
        self._start_recording(region, display.virtual_screen())

    def _start_recording(self, region: Region, screen: Region) -> None:
        """Validate the target, show the border and the countdown (Esc cancels), then :meth:`_begin_recording`.
        The countdown is ours, not the recorder's: the recorder (its file, its upload session) starts only when
        the countdown is over, so a cancelled one leaves nothing behind. A full-screen recording holds our
        notifications back from the countdown on (one shown now would still be on screen when recording starts)."""
        from tray.capture.recorder import RecorderState
        from tray.recording import RecordingSession, recording_path
        from tray.ui.recording_border import RecordingBorder
        from tray.ui.recording_control import covers_a_monitor

        self._warm_upload_path()

        cap = self.settings.capture
        path = recording_path(self.settings.upload.ensure_save_dir())

        def on_state(state: RecorderState) -> None:  # recorder threads
            self.dispatcher.post(lambda: self.tray.set_recording(
                state in (RecorderState.RECORDING, RecorderState.PAUSED), paused=state is RecorderState.PAUSED))

        from tray.capture.audio import audio_spec

        def on_audio_failure(failure: Any) -> None:  # a recorder thread; told once per failure, video goes on
            self.dispatcher.post(lambda: self._notify_error("Recording without sound", failure.message))

        session = RecordingSession(
            path, uploader=self.stack.engine if self.settings.upload.auto_upload else None, on_state=on_state,
            on_upload=lambda upload: self.progress.recording_started(upload, session.elapsed),  # "Recording 00:12"
            region=region, fps=cap.fps, bitrate=cap.bitrate, cursor=cap.cursor, max_duration=float(cap.max_duration),
            audio=audio_spec(cap.audio, cap.mic_device), on_audio_failure=on_audio_failure)
        try:
            session.prepare()  # bad region, no display: told now, before any countdown
        except Exception as exc:  # noqa: BLE001
            self._notify_error("Recording failed to start", str(exc))
            return
        rec = ActiveRecording(session, region, path, full_screen=covers_a_monitor(region, self._monitors()))
        if rec.full_screen:
            self.notification_hold.hold()
        # What is recorded (even-sized, inside the selection) gets the border just outside it, from now on.
        rec.border = RecordingBorder(self.root, session.region, screen)
        if cap.countdown <= 0:
            self._begin_recording(rec, screen)
            return
        from tray.ui.countdown import CountdownOverlay

        def counted_down() -> None:
            self.countdown = None
            self._begin_recording(rec, screen)

        def cancelled() -> None:
            self.countdown = None
            self._recording_not_started(rec)
            log.info("recording cancelled during the countdown; nothing was recorded")

        stop_key = self._hotkey_display("stop_recording")
        self.countdown = CountdownOverlay(self.root, session.region, screen, cap.countdown,
                                          on_done=counted_down, on_cancel=cancelled,
                                          hint=f"Esc to cancel · {stop_key} stops" if stop_key else "Esc to cancel")
        self.tray.set_recording(True)  # the menu's Stop item cancels the countdown

    def _begin_recording(self, rec: ActiveRecording, screen: Region) -> None:
        """Start the recorder; show the control bar outside the recorded area (none for a full-screen recording
        where the OS cannot keep it out of the capture: the tray icon and the hotkeys control it then), and hold
        our notifications back during a full-screen recording (the tray icon shows the state meanwhile)."""
        from tray.ui.recording_control import open_control
        from tray.ui.tray_icon import TrayState

        try:
            rec.session.start()  # publishes RECORDING: the clock starts at 0 now
        except Exception as exc:  # noqa: BLE001 - disk, encoder: tell the user
            self._recording_not_started(rec)
            self._notify_error("Recording failed to start", str(exc))
            return
        session = rec.session
        rec.control = open_control(self.root, session.region, screen, on_stop=self.stop_recording,
                                   on_toggle_pause=self.toggle_pause, elapsed=session.elapsed,
                                   paused=lambda: session.paused)
        if rec.control is None and not rec.full_screen:  # no room around it: full screen in all but name
            rec.full_screen = True
            self.notification_hold.hold()
        self.recording = rec
        self.tray.set_recording(True)
        self.tray.set_state(TrayState.RECORDING, elapsed=0)
        self._watch_recorder(rec)
        log.info("recording %s to %s%s", rec.region, rec.path,
                 " (full screen: notifications held" + ("" if rec.control else ", no control bar") + ")"
                 if rec.full_screen else "")

    def _recording_not_started(self, rec: ActiveRecording) -> None:
        rec.border.close()
        self.tray.set_recording(False)
        self._show_held_notifications(rec)

    def _show_held_notifications(self, rec: ActiveRecording) -> None:
        if rec.full_screen:
            for show in self.notification_hold.release():
                show()

    def _monitors(self) -> list:
        from tray.capture.backends import default_display_info

        try:
            return default_display_info().monitors()
        except Exception:  # noqa: BLE001 - then only the control bar's placement decides what is full screen
            return []

    def _watch_recorder(self, rec: ActiveRecording) -> None:
        """Notice a recording that ended by itself (max duration, disk full) and finish it like a stop."""
        def watch() -> None:
            rec.session.wait(None)
            self.dispatcher.post(lambda: self._recording_ended(rec))

        threading.Thread(target=watch, name="recording-watch", daemon=True).start()

    def stop_recording(self) -> None:
        if self.countdown is not None:
            self.countdown.cancel()
            return
        rec = self.recording
        if rec is None:
            return
        threading.Thread(target=lambda: rec.session.stop(timeout=60), name="recording-stop", daemon=True).start()

    def _recording_ended(self, rec: ActiveRecording) -> None:
        from tray.ui.tray_icon import TrayState

        if self.recording is not rec:
            return
        self.recording = None
        if rec.control is not None:
            rec.control.close()
        if rec.border is not None:
            rec.border.close()
        self._show_held_notifications(rec)
        self.tray.set_recording(False)
        self.tray.set_state(TrayState.IDLE)
        result = rec.session.result
        if result is not None and result.error:
            self._notify_error("Recording stopped", f"{result.error}. What was recorded is kept at {rec.path}"
                               + (" and is being uploaded." if self.settings.upload.auto_upload else "."))
        for upload in rec.session.uploads:
            self._await_url(upload, copy=True)
        if not self.settings.upload.auto_upload:
            self.notifier.notify("Recording saved", str(rec.path))

    def toggle_pause(self) -> None:
        if self.recording is not None:
            self.recording.session.toggle_pause()

    # ------------------------------------------------------------------ menu commands
    CONFIRM_SECONDS = 3.0

    def copy_link(self, url: str, *, confirm: bool = True) -> None:
        """Recent uploads menu, a notification's "Copy link": copy, then say so briefly (``confirm``)."""
        if self.clipboard is None:
            self._notify_error("No clipboard", f"Could not copy the link: {url}")
            return
        try:
            self.clipboard.copy_text(url)
        except Exception as exc:  # noqa: BLE001
            self._notify_error("Could not copy the link", f"{exc}. The link: {url}")
            return
        if confirm:
            self._confirm("Link copied", url)

    def _confirm(self, title: str, body: str) -> None:
        """A short "done" message: normal urgency, gone after CONFIRM_SECONDS; held during a full-screen recording."""
        def show() -> None:
            try:
                self.notifier.notify(title, body, timeout=self.CONFIRM_SECONDS)
            except Exception:  # noqa: BLE001 - notifications are best effort
                log.exception("notification failed")

        if not self.notification_hold.offer(None, show):
            show()

    def _open_path(self, path: Path) -> None:
        """Hand ``path`` to the desktop's opener. A thread waits for the opener (no zombie child); when there is
        no opener, or it found no program for the path (xdg-open exits 3 or 4, silently), the user is told."""
        import shutil

        opener = {"darwin": ["open"], "win32": ["explorer"]}.get(sys.platform, ["xdg-open"])
        hint = " (package xdg-utils)" if opener == ["xdg-open"] else ""
        if shutil.which(opener[0]) is None:
            self._notify_warning("No program to open it", f"{opener[0]} was not found{hint}, so nothing can open "
                                 f"{path}. Open it from a file manager.")
            return
        try:
            child = subprocess.Popen(opener + [str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        except OSError as exc:
            self._notify_warning("No program to open it", f"{opener[0]} could not start ({exc}), so nothing can "
                                 f"open {path}. Open it from a file manager.")
            return

        def reap() -> None:
            code = child.wait()
            if code != 0 and sys.platform != "win32":  # explorer.exe exits 1 even when it opened the folder
                self.dispatcher.post(lambda: self._notify_warning(
                    "Nothing opened", f"{opener[0]} found no program to open {path} (exit status {code}). "
                                      "Open it from a file manager, or set a default application for it."))

        threading.Thread(target=reap, name=f"reap-{opener[0]}-{child.pid}", daemon=True).start()

    def open_captures_folder(self) -> None:
        folder = self.settings.upload.ensure_save_dir()
        self._open_path(folder)

    def open_settings(self) -> None:
        from tray import config

        path = self.config_path or config.resolve_path(None)
        if not path.exists():
            config.save_config(self.settings, path)
        self._open_path(path)

    def login(self) -> None:
        """Ask for a token (hidden entry), verify it with GET /me, keep it in the keyring, resume uploads."""
        from tkinter import simpledialog

        from tray.api.errors import ApiError
        from tray.api.token_store import TokenStore

        conn = self.stack.connection
        token = simpledialog.askstring("Snaplark — log in", f"Token for {conn.api_url}:", show="*",
                                       parent=self.root)
        if not token:
            return
        token = token.strip()
        from tray.api.server_check import verify_token

        try:
            checked = verify_token(conn.api_url, token)
            TokenStore().set(conn.api_url, token)
        except (ApiError, Exception) as exc:  # noqa: BLE001 - shown to the user
            self._notify_error("Log in failed", str(exc))
            return
        self.tray.set_logged_in(True)
        self.notifier.notify("Logged in", f"as {checked.user}; uploads continue." if checked.user else
                             f"Token stored: {checked.note}.")
        self.stack.engine.auth_restored()

    def logout(self) -> None:
        from tray.api.token_store import TokenStore

        try:
            TokenStore().delete(self.stack.connection.api_url)
        except Exception as exc:  # noqa: BLE001
            self._notify_error("Log out failed", str(exc))
            return
        self.tray.set_logged_in(False)

    def quit(self) -> None:
        self.dispatcher.stop()
