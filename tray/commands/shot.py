"""``snaplark shot``: screenshot for scripting -- grab, optionally annotate, always keep a local PNG, optionally
upload (durably: a failed upload stays queued in the journal) and copy the link (or the image) to the clipboard.

Exit status: 0 done; 1 capture/upload failed (the PNG is kept and its path printed); 2 usage; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from tray.commands.expiry_option import add_expires_argument

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_DELAY = 60  # seconds; more is a typo (ms?) rather than a plan


def configure(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--region", metavar="X,Y,W,H", help="capture this rectangle (virtual-screen pixels)")
    where.add_argument("--screen", type=int, metavar="N", help="capture monitor N (0 = first); default: all monitors")
    where.add_argument("--window", metavar="ID|TITLE",
                       help="capture this top-level window (X11): its id (0x... or decimal) or a piece of its title; "
                            "brought to the front first")
    where.add_argument("--active-window", action="store_true", help="capture the window that has the focus (X11)")
    parser.add_argument("--frame", action=argparse.BooleanOptionalAction, default=None,
                        help="with --window/--active-window: include the title bar and borders (default: the "
                             "capture.window_frame setting, on)")
    parser.add_argument("--annotate", action="store_true", help="open the annotator before saving/uploading")
    parser.add_argument("--upload", action="store_true", help="upload and print the link")
    parser.add_argument("--copy", action="store_true",
                        help="copy the link (with --upload) or the image (without) to the clipboard")
    parser.add_argument("--output", type=Path, metavar="PATH", help="where to save the PNG (default: captures dir)")
    parser.add_argument("--cursor", action="store_true", help="draw the mouse pointer into the screenshot")
    parser.add_argument("--delay", type=int, default=0, metavar="SECONDS",
                        help=f"wait this long first (0-{MAX_DELAY}), with a countdown in the screen's corner that "
                             "is gone before the capture")
    parser.add_argument("--pin", action="store_true",
                        help="then pin it to the screen (always on top; drag moves, wheel zooms, Ctrl+C copies, Esc "
                             "closes); the command returns when the pin is closed")
    add_expires_argument(parser)
    parser.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                        help="how long to wait for the upload before leaving it queued (default 120)")


def _err(msg: str, prog: str = "snaplark shot") -> None:
    print(f"{prog}: {msg}", file=sys.stderr)


def _settings(args: argparse.Namespace) -> Any:
    from tray import config

    return config.load_config(config.resolve_path(getattr(args, "config", None)))


def default_output(settings: Any, now: float | None = None) -> Path:
    from tray.captures import screenshot_path

    return screenshot_path(settings.upload.resolved_save_dir(), now)


def annotate(png: bytes) -> bytes | None:
    """Show the annotator on a fresh Tk root; returns the annotated PNG (Upload / Ctrl+U / Ctrl+S / close keeps
    the marked-up image), or None if the user closed it with nothing done and chose nothing."""
    import io
    import tkinter as tk

    from PIL import Image

    from tray.ui.annotator.window import AnnotatorWindow

    root = tk.Tk()
    root.withdraw()
    result: dict[str, bytes] = {}

    def done(data: bytes) -> None:
        result["png"] = data
        window.close()

    window = AnnotatorWindow(root, Image.open(io.BytesIO(png)).convert("RGB"), on_upload=done, on_save=done,
                             on_close=root.quit)
    try:
        root.mainloop()
    finally:
        root.destroy()
    return result.get("png")


def run(args: argparse.Namespace) -> int:
    from tray.capture.errors import InvalidCaptureTarget, NoDisplayError
    from tray.capture.screenshot import capture_png
    from tray.capture.target import parse_region

    settings = _settings(args)
    if not 0 <= args.delay <= MAX_DELAY:
        _err(f"--delay must be 0 to {MAX_DELAY} seconds, got {args.delay}")
        return EXIT_USAGE
    try:
        target: Any = parse_region(args.region) if args.region else args.screen
    except InvalidCaptureTarget as exc:  # --region syntax
        _err(str(exc))
        return EXIT_USAGE
    window = getattr(args, "window", None)
    if window is None and getattr(args, "frame", None) is not None and not getattr(args, "active_window", False):
        _err("--frame/--no-frame go with --window or --active-window")
        return EXIT_USAGE
    try:
        if args.delay:
            if not count_down(args.delay):
                _err("cancelled during the countdown; nothing captured")
                return EXIT_INTERRUPTED
        if window is not None or getattr(args, "active_window", False):
            from tray.capture.window import WindowCaptureUnsupported, window_target

            frame = settings.capture.window_frame if args.frame is None else args.frame
            try:
                target, _ = window_target(window, with_frame=frame)
            except WindowCaptureUnsupported as exc:
                _err(str(exc))
                return EXIT_FAILED
        png = capture_png(target, cursor=args.cursor)
    except (InvalidCaptureTarget, NoDisplayError) as exc:
        _err(str(exc))
        return EXIT_FAILED
    if args.annotate:
        marked = annotate(png)
        if marked is None:
            _err("annotation cancelled; nothing saved")
            return EXIT_FAILED
        png = marked

    out = args.output or default_output(settings)
    from tray.captures import save_atomically

    save_atomically(png, out)
    print(out if not args.upload else f"saved {out}", file=sys.stdout if not args.upload else sys.stderr)

    if not args.upload:
        if args.copy:
            _copy(lambda c: c.copy_image_png(png))
        code = EXIT_OK
    else:
        code = _upload(settings, out, args)
    if args.pin and code == EXIT_OK:
        pin(png, (target.left, target.top) if hasattr(target, "left") else None)
    return code


def count_down(seconds: int) -> bool:
    """The visible countdown (tray.ui.countdown) in the bottom-right corner of the screen, without a grab (the user
    is setting up the screen meanwhile). Returns when it is gone from the screen: True; False when cancelled
    (Ctrl+C)."""
    import tkinter as tk

    from tray.capture.backends import default_display_info
    from tray.ui.countdown import CountdownOverlay
    from tray_platform.base import Region

    screen = default_display_info().virtual_screen()
    root = tk.Tk()
    root.withdraw()
    outcome: dict[str, bool] = {}

    def finish(ok: bool) -> None:
        outcome["ok"] = ok
        root.quit()

    try:
        overlay = CountdownOverlay(root, Region(screen.right - 1, screen.bottom - 1, 1, 1), screen, seconds,
                                   on_done=lambda: finish(True), on_cancel=lambda: finish(False),
                                   hint="until the screenshot", grab=False, focus=False)
        try:
            root.mainloop()
        except KeyboardInterrupt:
            overlay.cancel()
            return False
    finally:
        root.destroy()
    return outcome.get("ok", False)


def pin(png: bytes, at: tuple[int, int] | None) -> None:
    """Pin the image at ``at`` (its top-left on screen: a region stays where it was taken; None: around the
    pointer) on a fresh Tk root; returns when the pin is closed."""
    import io
    import tkinter as tk

    from PIL import Image

    from tray.ui.pin import BORDER, PinBoard

    root = tk.Tk()
    root.withdraw()
    try:
        from tray_platform.base import choose_backend

        clipboard = choose_backend("clipboard", env_var="SNAPLARK_CLIPBOARD", root=root).backend
    except Exception as exc:  # noqa: BLE001 - the pin works without; Ctrl+C says so
        log.warning("no clipboard for the pin: %s", exc)
        clipboard = None
    board = PinBoard(root, clipboard=clipboard, on_empty=root.quit,
                     on_message=lambda title, body: print(f"snaplark shot: {title}: {body}", file=sys.stderr))
    x, y = (at[0] - BORDER, at[1] - BORDER) if at is not None else (None, None)
    board.pin(Image.open(io.BytesIO(png)), x, y)
    print("snaplark shot: pinned (drag moves, wheel zooms, Ctrl+C copies, Esc closes)", file=sys.stderr, flush=True)
    try:
        root.mainloop()
    finally:
        root.destroy()


def _upload(settings: Any, path: Path, args: argparse.Namespace, prog: str = "snaplark shot",
            what: str = "screenshot") -> int:
    """Upload the image ``path`` as a screenshot and print its link; ``prog`` prefixes every line on stderr (the
    command the user ran: ``snaplark record --format gif`` uploads its GIF here too), ``what`` names the file."""
    from tray.api.errors import ApiError
    from tray.commands import expiry_option
    from tray.services import ServerUnavailable, UploadStack
    from tray.upload.engine import LoginRequired, UploadFailed

    try:
        with UploadStack(settings) as stack:
            upload = stack.engine.upload_screenshot(path, expiry_option.metadata_for(args))
            try:
                url = upload.wait(args.timeout, stop_on_login=True)
            except LoginRequired:
                api_url = stack.connection.api_url
                _err(f"{api_url} refused the token (401): log in with `snaplark login --server {api_url}`; the "
                     f"upload stays queued (`snaplark upload --resume`). The {what} is at {path}", prog)
                return EXIT_FAILED
            except TimeoutError:
                _err(f"upload still pending after {args.timeout:g} s; it stays queued and resumes at the next "
                     f"start (`snaplark upload --resume`). The {what} is at {path}", prog)
                return EXIT_FAILED
    except (UploadFailed, ApiError, ServerUnavailable) as exc:
        _err(f"upload failed: {exc}. The {what} is kept at {path}", prog)
        return EXIT_FAILED
    except KeyboardInterrupt:
        _err(f"interrupted; the upload stays queued. The {what} is at {path}", prog)
        return EXIT_INTERRUPTED
    print(url)
    expiry_option.report(upload, prog)
    if args.copy:
        _copy(lambda c: c.copy_text(url))
    return EXIT_OK


def _copy(action: Any) -> None:
    from tray_platform.base import choose_backend

    try:
        action(choose_backend("clipboard", env_var="SNAPLARK_CLIPBOARD").backend)
    except Exception as exc:  # noqa: BLE001 - the capture is done; a clipboard failure is only reported
        _err(f"could not copy to the clipboard: {exc}")
