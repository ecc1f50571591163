"""Screenshots from the tray: freeze the screen, let the user select (:mod:`tray.ui.selector`), annotate
(:mod:`tray.ui.annotator`), then save the PNG and queue its upload (the link goes to the clipboard when it arrives).

:meth:`CaptureFlow.select` is also how a region recording starts (:mod:`tray.ui.recording_flow`).

Hotkey -> overlay: the frozen screen comes from one capture adapter kept open between selections
(:class:`tray.capture.screenshot.KeptCapture`, closed after ``grabber.idle_s`` unused), and the selector reads the
window list in the idle pass after its first paint (python-xlib, ~5-10 ms: not before the frozen screen shows; on a
worker thread it would slow the Tk thread's image work through the GIL).

Threading: Tk thread only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from tray_platform.base import Region

from tray.ui.context import TrayContext
from tray.ui.recent_uploads import RecentUploads

log = logging.getLogger(__name__)


class CaptureFlow:
    def __init__(self, ctx: TrayContext, recent: RecentUploads):
        self.ctx = ctx
        self.recent = recent
        self.selector: Any = None  # the open RegionSelector
        self.annotator: Any = None  # the last AnnotatorWindow
        self.last_image: Any = None  # the last screenshot (as annotated when it was pinned, copied or uploaded)
        self.pins: Any = None  # tray.ui.pin.PinBoard, made at the first pin
        self.countdown: Any = None  # the countdown of "Capture screen in 5 s" while it runs
        self._grabber: Any = None  # made at the first capture: an idle app has not imported the capture code
        self._release_job: Any = None
        self._busy = False

    @property
    def grabber(self):
        """The frozen screens' capture adapter (:class:`tray.capture.screenshot.KeptCapture`), kept open while
        captures come."""
        if self._grabber is None:
            from tray.capture.screenshot import KeptCapture

            self._grabber = KeptCapture()
        return self._grabber

    @property
    def busy(self) -> bool:
        """A selector is open."""
        return self._busy

    def grab_everything(self) -> tuple[Any, Region, list]:
        """The whole virtual screen (no cursor), its region and its monitors."""
        from tray.capture.backends import default_display_info
        from tray.capture.target import screen_layout

        screen, monitors = screen_layout(default_display_info())
        frozen = self.grabber.image(screen)
        self._schedule_grabber_release()
        return frozen, screen, monitors

    def _schedule_grabber_release(self) -> None:
        """Close the kept capture adapter once it has been unused for ``grabber.idle_s`` (a Tk timer: no thread)."""
        root = self.ctx.root
        if root is None:
            return
        if self._release_job is not None:
            root.after_cancel(self._release_job)

        def release() -> None:
            self._release_job = None
            if not self.grabber.release_if_idle():
                self._schedule_grabber_release()

        self._release_job = root.after(max(1, int(self.grabber.idle_s * 1000)), release)

    @staticmethod
    def window_list() -> tuple[list, str | None]:
        """The top-level windows, topmost first, for the selector's window picking -- or none and why not."""
        from tray.capture.window import WindowCaptureUnsupported, default_window_info

        try:
            return default_window_info().windows(), None
        except WindowCaptureUnsupported as exc:
            return [], str(exc)
        except Exception as exc:  # noqa: BLE001 - region selection still works; W says why windows do not
            log.warning("no window list for the selector: %s", exc)
            return [], f"Window list unavailable: {exc}"

    def select(self, on_region: Callable[[Region, Any, Region], None]) -> None:
        """Freeze the screen, show the selector, call ``on_region(region, frozen, screen)`` on confirm."""
        if self.busy:
            return
        from tray.ui.selector import RegionSelector

        ctx = self.ctx
        try:
            frozen, screen, monitors = self.grab_everything()
        except Exception as exc:  # noqa: BLE001 - no display / capture failure: tell the user
            ctx.notify_error("Capture failed", str(exc))
            return
        self._busy = True

        def done(region: Region | None) -> None:
            self._busy = False
            self.selector = None
            if region is None:
                return
            on_region(region, frozen, screen)

        self.selector = RegionSelector(ctx.root, frozen, (screen.left, screen.top), done, monitors=monitors,
                                       clipboard=ctx.clipboard,  # C copies the colour under the cursor
                                       windows=self.window_list,  # read once the frozen screen shows
                                       window_frame=ctx.settings.capture.window_frame)
        log.info("selector shown over %s", screen)
        ctx.root.after(300, ctx.warm_upload_path)  # the user is choosing a region: time to wake the server

    def capture_region(self) -> None:
        from tray.ui.selector import crop_to_region

        self.select(lambda region, frozen, screen: self.annotate(
            crop_to_region(frozen, region, (screen.left, screen.top))))

    def capture_screen(self) -> None:
        if self.busy:
            return
        self.ctx.warm_upload_path()
        try:
            frozen, _, _ = self.grab_everything()
        except Exception as exc:  # noqa: BLE001
            self.ctx.notify_error("Capture failed", str(exc))
            return
        self.annotate(frozen)

    def capture_active_window(self) -> None:
        """Tray "Capture active window" / ``hotkeys.capture_window``: the focused window (with its frame unless
        ``capture.window_frame`` is off) straight into the annotator."""
        if self.busy:
            return
        from tray.capture.screenshot import capture_image
        from tray.capture.window import window_target

        try:
            region, window = window_target(None, with_frame=self.ctx.settings.capture.window_frame)
            image = capture_image(region, cursor=False)
        except Exception as exc:  # noqa: BLE001 - Wayland, nothing focused, no display: tell the user
            self.ctx.notify_error("Window capture failed", str(exc))
            return
        log.info("captured window 0x%x %r as %s", window.id, window.title, region)
        self.ctx.warm_upload_path()
        self.annotate(image)

    def capture_screen_in(self, seconds: int) -> None:
        """Tray "Capture screen in 5 s": a countdown in the screen's corner (no grab: the user sets the screen up
        meanwhile), gone from the screen before the capture."""
        if self.busy or self.countdown is not None:
            return
        from tray.capture.backends import default_display_info
        from tray.ui.countdown import CountdownOverlay

        try:
            screen = default_display_info().virtual_screen()
        except Exception as exc:  # noqa: BLE001
            self.ctx.notify_error("Capture failed", str(exc))
            return

        def done() -> None:
            self.countdown = None
            self.capture_screen()

        def cancelled() -> None:
            self.countdown = None

        self.countdown = CountdownOverlay(self.ctx.root, Region(screen.right - 1, screen.bottom - 1, 1, 1), screen,
                                          seconds, on_done=done, on_cancel=cancelled, hint="until the screenshot",
                                          grab=False, focus=False)

    def annotate(self, image: Any) -> None:
        from tray.ui.annotator.prefs import AnnotatorPrefsStore
        from tray.ui.annotator.window import AnnotatorWindow

        if self.annotator is not None and not self.annotator.closed:
            self.annotator.close()
        self.last_image = image
        # on_save=None: the annotator's Save asks with the desktop's save dialog, starting in the captures folder;
        # the tool, colour and width carry over to the next annotator (data dir, annotator.json)
        settings = self.ctx.settings
        self.annotator = AnnotatorWindow(self.ctx.root, image, on_upload=self.upload_png, on_save=None,
                                         on_copy=self.copy_image, on_pin=self.pin_png, prefs=AnnotatorPrefsStore(),
                                         save_dir=settings.upload.resolved_save_dir())
        self._log_when_mapped(self.annotator)

    def _log_when_mapped(self, annotator: Any, tries: int = 100) -> None:
        """Log where the annotator's canvas landed on screen once it is mapped (scripts and tests use it)."""
        canvas = annotator.canvas
        if canvas.winfo_viewable() or tries <= 0:
            log.info("annotator shown: image %dx%d, canvas at %d,%d scale %.3f", annotator.document.size[0],
                     annotator.document.size[1], canvas.winfo_rootx(), canvas.winfo_rooty(), annotator.scale)
            return
        self.ctx.root.after(20, lambda: self._log_when_mapped(annotator, tries - 1))

    def save_capture(self, png: bytes) -> Path:
        from tray.captures import save_atomically, screenshot_path

        return save_atomically(png, screenshot_path(self.ctx.settings.upload.ensure_save_dir()))

    def upload_png(self, png: bytes) -> None:
        """Keep the PNG locally, queue it durably, put the link on the clipboard when it arrives."""
        path = self.save_capture(png)
        self._remember(png)
        upload = self.ctx.stack.engine.upload_screenshot(path)
        log.info("screenshot saved to %s and queued for upload", path)
        if self.annotator is not None and not self.annotator.closed:
            self.annotator.close()  # like Flameshot: the notification and the clipboard take it from here
        self.recent.await_url(upload, copy=True)

    def copy_image(self, png: bytes) -> None:
        self._remember(png)
        if self.ctx.clipboard is not None:
            self.ctx.clipboard.copy_image_png(png)

    def pin_png(self, png: bytes) -> None:
        """The annotator's Pin: the marked-up image as an always-on-top window (several may be open)."""
        self.pin(self._remember(png))

    def pin_last(self) -> None:
        """Tray "Pin last screenshot"."""
        if self.last_image is None:
            self.ctx.notify_warning("Nothing to pin", "Take a screenshot first; then it can be pinned.")
            return
        self.pin(self.last_image)

    def pin(self, image: Any) -> Any:
        from tray.ui.pin import PinBoard

        if self.pins is None:
            self.pins = PinBoard(self.ctx.root, clipboard=self.ctx.clipboard, on_message=self.ctx.confirm)
        return self.pins.pin(image)

    def _remember(self, png: bytes) -> Any:
        import io

        from PIL import Image

        self.last_image = Image.open(io.BytesIO(png)).convert("RGB")
        return self.last_image
