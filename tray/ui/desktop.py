"""The tray application: starts the tray icon, hotkeys, notifier, clipboard and upload stack, and routes the commands
of the menu, the hotkeys and a second instance to its parts (built by :func:`tray.app.run_tray`; it imports the
services it uses from :mod:`tray.services`, never ``tray.app`` or ``tray.commands``):

* :mod:`tray.ui.capture_flow` -- screenshots: selector, annotator, save and upload;
* :mod:`tray.ui.recording_flow` -- recordings: countdown, control bar, border, stop;
* :mod:`tray.ui.recent_uploads` -- the Recent uploads menu and what happens when a link arrives;
* :mod:`tray.ui.account` -- log in / log out;
* :mod:`tray.ui.sound_menu` -- the tray menu's Sound submenu (microphone, system sound, which microphone);
* :mod:`tray.ui.context` -- what they share (:class:`TrayContext`) and the messages they show the user.

Threading (DESIGN.md): this object lives on the Tk main thread. The tray icon (pystray), the hotkey listener
(pynput), the single-instance socket and the upload workers run on their own threads and reach the UI only through
``dispatcher.post``. Slow work (stopping the encoder, waiting for an upload's URL) runs on short-lived worker
threads, never on the Tk thread. Command methods (``capture_region`` ...) must be called on the Tk thread.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from tray.ui.account import AccountFlow
from tray.ui.app_windows import AppWindows
from tray.ui.capture_flow import CaptureFlow
from tray.ui.context import TrayContext
from tray.ui.recent_uploads import RecentUploads
from tray.ui.recording_flow import RecordingFlow
from tray.ui.text_capture import TextCapture
from tray.ui.sound_menu import SoundMenu

log = logging.getLogger(__name__)

TRIM_HEAP_TICKS = 120  # ticks are 0.5 s apart: the C heap's free pages go back to the OS once a minute when idle


def _shared(name: str) -> property:
    """``DesktopApp.<name>`` is the context's field (the parts read it there)."""
    return property(lambda self: getattr(self.ctx, name), lambda self, value: setattr(self.ctx, name, value),
                    doc=f"The shared :class:`TrayContext` field ``{name}``.")


class DesktopApp:
    """See module docstring. ``run()`` blocks in the Tk main loop until Quit."""

    settings = _shared("settings")
    config_path = _shared("config_path")
    root = _shared("root")
    dispatcher = _shared("dispatcher")
    notifier = _shared("notifier")
    progress = _shared("progress")
    tray = _shared("tray")
    stack = _shared("stack")
    clipboard = _shared("clipboard")

    def __init__(self, settings: Any, *, config_path: Path | None = None, first_run: bool = False):
        self.ctx = TrayContext(settings, config_path=config_path)
        self.first_run = first_run
        self.hotkeys: Any = None
        self.instance: Any = None
        self.recent = RecentUploads(self.ctx)
        self.captures = CaptureFlow(self.ctx, self.recent)
        self.recordings = RecordingFlow(self.ctx, self.captures, self.recent)
        self.account = AccountFlow(self.ctx)
        self.text = TextCapture(self.ctx, self.captures)
        self.windows = AppWindows(self.ctx, self.recent, on_settings_saved=self.settings_saved, on_login=self.login,
                                  on_logout=self.logout, on_hotkey_recording=self._hold_hotkeys)
        self._hotkeys_held = False  # the Settings window records a hotkey: ours do nothing meanwhile
        self.sound = SoundMenu(self.ctx, on_change=lambda: self.tray is not None and self.tray.refresh_menu())
        self._ticks = 0

    @property
    def recording(self) -> Any:
        """The running recording (``tray.ui.recording_flow.ActiveRecording``), or None."""
        return self.recordings.active

    @property
    def countdown(self) -> Any:
        return self.recordings.countdown

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
        from tray.ui.single_instance import SingleInstance, default_path as default_instance_path

        self.instance = SingleInstance(default_instance_path(), config_file=self.config_path)
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
        self.progress = ProgressNotifier(self.notifier, copy_link=self.ctx.copy_link, post=self.dispatcher.post,
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
                self.ctx.notify_error("Snaplark cannot start", str(exc))
                print(f"snaplark: {exc}", file=sys.stderr)
                return 1
            embedded = self.stack.connection.embedded
            if embedded is not None:  # it starts on first use: a failure then is told, not just logged
                embedded.on_failed = lambda exc: self.dispatcher.post(lambda: self.ctx.notify_error(
                    "Snaplark's local server could not start",
                    f"{exc}. Uploads wait until it can; see the log, or set server.url to another server."))
            self.instance.serve(lambda cmd: self.dispatcher.post(getattr(self, cmd)))
            resumed = self.stack.engine.resume_all()
            if resumed:
                log.info("resuming %d unfinished upload(s)", len(resumed))
                for upload in resumed:
                    self.recent.await_url(upload, copy=False)
            self.recent.refresh()
            if self.first_run:
                self._welcome()
            self.root.after(500, self._tick)
            log.info("tray app running (pid %d)", os.getpid())
            self.dispatcher.run()
        finally:
            self._shutdown()
        return 0

    def _shutdown(self) -> None:
        self._hand_off_clipboard()
        self.windows.close()
        self.recordings.shutdown()
        if self.hotkeys is not None:
            self.hotkeys.stop()
        if self.tray is not None:
            self.tray.stop()
        if self.stack is not None:
            self.stack.close()
        close = getattr(self.notifier, "close_connection", None)
        if close:
            close()

    def _hand_off_clipboard(self) -> None:
        """A link this app still owns on the clipboard stays pasteable after it quits (given to xclip)."""
        hand_off = getattr(self.clipboard, "hand_off", None)
        if hand_off is not None:
            try:
                hand_off()
            except Exception as exc:  # noqa: BLE001 - quitting goes on; only the last link is not kept
                log.warning("could not keep the clipboard after exit: %s", exc)

    def _tick(self) -> None:
        """Twice a second on the Tk thread: flush held-back progress, refresh the recording tooltip."""
        if self.progress is not None and not self.ctx.notification_hold.held:
            self.progress.tick()
        self._ticks += 1
        if self.tray is not None and not self.tray.available and self._ticks % 10 == 0:
            self.tray.check_host()  # a panel that starts after us (login races) still gets the icon
        if self._ticks % 20 == 0:
            self.sound.refresh()  # microphones plugged in or out show up in the menu (listed off this thread)
        if self._ticks % TRIM_HEAP_TICKS == 4 and self.recording is None:
            from tray_platform.memory import trim_heap

            trim_heap()  # 2 s after start, then each minute: start-up's and captures' freed heap back to the OS
        if self.recording is not None and self.tray is not None:
            from tray.ui.tray_icon import TrayState

            self.tray.set_state(TrayState.RECORDING, elapsed=self.recording.session.elapsed())
        if not self.dispatcher.stopped:
            self.root.after(500, self._tick)

    # ------------------------------------------------------------------ wiring
    def _start_tray(self) -> None:
        self.tray = self.make_tray_icon()
        self.tray.start()
        self.sound.refresh()

    def make_tray_icon(self) -> Any:
        """The tray icon with this app's menu (commands posted through the dispatcher), not started."""
        from tray.ui.tray_icon import TrayIcon

        return TrayIcon(self, self.dispatcher.post, capture_hotkey=self.ctx.hotkey_display("capture_region"),
                        on_unavailable=lambda msg: self.ctx.notify_error("Snaplark", msg),
                        sound_menu=self.sound.entries)

    def _start_hotkeys(self) -> None:
        from tray.ui.hotkeys import GlobalHotkeys

        hk = self.settings.hotkeys
        bindings = {
            "capture_region": (hk.capture_region, self.capture_region),
            "capture_screen": (hk.capture_screen, self.capture_screen),
            "record_region": (hk.record_region, self.record_region),
            "stop_recording": (hk.stop_recording, self.stop_recording),
            "pause_recording": (hk.pause_recording, self.toggle_pause),
            "copy_text": (hk.copy_text, self.copy_text),
            "capture_window": (hk.capture_window, self.capture_active_window),
        }
        bindings = {k: v for k, v in bindings.items() if v[0]}
        self.hotkeys = GlobalHotkeys(bindings, lambda fn: self._hotkeys_held or self.dispatcher.post(fn),
                                     on_problem=lambda p: self.ctx.notify_warning("Hotkey not registered", p.message))
        self.hotkeys.start()

    def _open_clipboard(self) -> Any:
        from tray_platform.base import choose_backend

        try:
            # in_process: links are owned by this long-lived Tk root (no xclip per copy; handed to xclip at exit)
            return choose_backend("clipboard", env_var="SNAPLARK_CLIPBOARD", root=self.root, in_process=True).backend
        except Exception as exc:  # noqa: BLE001
            log.warning("no clipboard: %s", exc)
            return None

    def _welcome(self) -> None:
        keys = ", ".join(f"{label} {self.ctx.hotkey_display(name)}" for name, label in (
            ("capture_region", "capture"), ("record_region", "record"), ("stop_recording", "stop"))
            if self.ctx.hotkey_display(name))
        self.notifier.notify("Snaplark is ready",
                             f"{keys}. Links go to your clipboard. Left-click the tray icon to capture a region.")

    def _on_upload_event(self, event: Any) -> None:
        """Upload worker threads: progress notification + tray state."""
        if not self.ctx.notification_hold.offer((getattr(event, "upload_id", None), type(event).__name__),
                                                lambda: self.progress.on_event(event)):
            self.progress.on_event(event)
        if self.tray is not None:
            self.tray.show_upload_event(event)  # needs-login / offline marks and the Log in item; a recording wins

    # ------------------------------------------------------------------ commands (tray menu, hotkeys, 2nd instance)
    def capture_region(self) -> None:
        self.captures.capture_region()

    def capture_screen(self) -> None:
        self.captures.capture_screen()

    def capture_active_window(self) -> None:
        self.captures.capture_active_window()

    def capture_screen_delayed(self) -> None:
        """The whole screen after a 5 s countdown that is not in the shot."""
        self.captures.capture_screen_in(5)

    def pin_last(self) -> None:
        """Pin the last screenshot to the screen (always on top)."""
        self.captures.pin_last()

    def copy_text(self) -> None:
        """Select a region; its text (read locally) goes to the clipboard."""
        self.text.start()

    def record_region(self) -> None:
        self.recordings.record_region()

    def record_screen(self) -> None:
        self.recordings.record_screen()

    def stop_recording(self) -> None:
        self.recordings.stop()

    def toggle_pause(self) -> None:
        self.recordings.toggle_pause()

    def copy_link(self, url: str, *, confirm: bool = True) -> None:
        self.ctx.copy_link(url, confirm=confirm)

    def delete_link(self, url: str) -> None:
        """Recent uploads → Delete link…: ask, delete it on the server, record it, say so."""
        self.recent.delete_link(url)

    def open_captures_folder(self) -> None:
        from tray.ui.opener import open_path

        open_path(self.ctx, self.settings.upload.ensure_save_dir())

    def open_history(self) -> None:
        self.windows.open_history()

    def open_settings(self) -> None:
        self.windows.open_settings()

    def settings_saved(self, settings: Any) -> list[str]:
        """The Settings window saved ``settings``: hotkeys are registered again at once; returns what needs a
        restart (server, notifications)."""
        old, self.settings = self.settings, settings
        if self.hotkeys is not None and settings.hotkeys != old.hotkeys:
            self.hotkeys.stop()
            self._start_hotkeys()
            if self.tray is not None:
                self.tray.capture_hotkey = self.ctx.hotkey_display("capture_region")
        if settings.upload.expires != old.upload.expires and self.stack is not None and self.stack.engine is not None:
            from tray.config.validation import parse_duration

            self.stack.engine.expires_in = parse_duration(settings.upload.expires)  # the next upload's default
        return [name for name in ("server", "notifications") if getattr(settings, name) != getattr(old, name)]

    def _hold_hotkeys(self, held: bool) -> None:
        self._hotkeys_held = held

    def open_settings_file(self) -> None:
        from tray import config
        from tray.ui.opener import open_path

        path = self.config_path or config.resolve_path(None)
        if not path.exists():
            config.save_config(self.settings, path)
        open_path(self.ctx, path)

    def login(self) -> None:
        self.account.login()

    def logout(self) -> None:
        self.account.logout()

    def quit(self) -> None:
        self.dispatcher.stop()
