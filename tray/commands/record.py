"""``snaplark record [--region X,Y,W,H | --monitor N] [--duration S] [--fps N] [--audio MODE] [--mic-device NAME]
[--format webm|mp4|gif] [--no-upload] [--output PATH]``.

The format is ``--format``, else the ``--output`` file's suffix (``.webm``/``.mkv`` or ``.mp4``), else the
``capture.format`` setting; an ``--output`` whose suffix names the other container is refused (exit 2). GIF: a
WebM spool converted when the recording stops (``tray/commands/record_gif.py``; at most 60 s).

Records until Ctrl+C (SIGINT) or SIGTERM, ``--duration`` seconds, or the ``capture.max_duration`` setting; the
file is always closed cleanly (cues + duration written). With upload (the default when ``upload.auto_upload`` is
on and ``--no-upload`` is not given) the recording streams into the upload engine while it is recorded, through
the ``RecordingSink`` (``tray/capture/sink.py``); at the end the command waits for the link and prints it.
Without upload it prints the local path. Works against any X display (``DISPLAY``), no tray needed.

Exit status: 0 done, 1 recording or upload failed (the local file is kept and named), 2 bad input / no display.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from tray.commands.expiry_option import add_expires_argument, report, with_flag

log = logging.getLogger(__name__)

UPLOAD_WAIT_SECONDS = 600.0


def configure(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--region", metavar="X,Y,W,H", help="record this rectangle of the virtual screen")
    where.add_argument("--monitor", type=int, metavar="N", help="record monitor N (0 = first); default: all")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds of recording")
    parser.add_argument("--fps", type=int, metavar="N", help="frames per second (default: capture.fps)")
    parser.add_argument("--bitrate", type=int, metavar="BPS", help="target bit/s (default: capture.bitrate)")
    parser.add_argument("--countdown", type=int, metavar="S", help="seconds before recording starts "
                        "(default: 0 on the command line)")
    parser.add_argument("--cursor", dest="cursor", action="store_true", default=None,
                        help="draw the mouse pointer (default: capture.cursor)")
    parser.add_argument("--no-cursor", dest="cursor", action="store_false")
    parser.add_argument("--audio", choices=("auto", "none", "mic", "system", "both"), default=None,
                        help="sound to record: the microphone, system sound (what the speakers play), both, none; "
                             "auto = the microphone when there is one (default: capture.audio)")
    parser.add_argument("--mic-device", metavar="NAME", default=None,
                        help="microphone by name or id (`snaplark devices` lists them; default: capture.mic_device, "
                             "else the system's default)")
    parser.add_argument("--format", choices=("webm", "mp4", "gif"), default=None,
                        help="webm (VP9 + Opus) or mp4 (H.264 + AAC, plays in Safari and more chat apps); default: "
                             "the --output file's suffix, else capture.format")
    parser.add_argument("--webcam", dest="webcam", action="store_true", default=None,
                        help="the webcam in a round bubble in a corner of the video (default: capture.webcam)")
    parser.add_argument("--no-webcam", dest="webcam", action="store_false")
    parser.add_argument("--webcam-device", metavar="DEV", default=None,
                        help="camera: /dev/videoN (Linux), a DirectShow name (Windows), an index (macOS), or "
                             "file:PATH to play a video as the camera (default: capture.webcam_device)")
    parser.add_argument("--webcam-corner", choices=("bottom-right", "bottom-left", "top-right", "top-left"),
                        default=None, help="where the bubble goes (default: capture.webcam_corner)")
    parser.add_argument("--no-upload", action="store_true", help="keep the recording local only")
    add_expires_argument(parser)
    parser.add_argument("--output", type=Path, metavar="PATH",
                        help="file to write (default: <save dir>/recording-<ms>.webm or .mp4)")


def _settings(args: argparse.Namespace) -> Any:
    try:
        from tray.config import load_config
    except ImportError:  # pragma: no cover - config is part of the app
        return None
    return load_config(getattr(args, "config", None))


def _default_output(settings: Any, ext: str) -> Path:
    from tray.recording import recording_path

    if settings is not None:
        return recording_path(settings.upload.ensure_save_dir(), ext=ext)
    from tray import paths  # pragma: no cover

    return recording_path(paths.ensure_private_dir(paths.captures_dir()), ext=ext)


def _format(args: argparse.Namespace, cap: Any) -> str:
    """``--format``, else what ``--output``'s suffix names, else ``capture.format``."""
    from tray.capture.encoder import DEFAULT_FORMAT, format_of_path

    if args.format:
        return args.format
    named = format_of_path(args.output) if args.output else None
    if args.output and Path(args.output).suffix.lower() == ".gif":
        named = "gif"
    return named or (cap.format if cap else DEFAULT_FORMAT)


def run(args: argparse.Namespace) -> int:
    from tray.capture.errors import InvalidCaptureTarget, NoDisplayError
    from tray.capture.target import parse_region
    from tray.recording import RecordingSession

    settings = with_flag(_settings(args), args)  # --expires: the engine's default for this run (GIF too)
    cap = settings.capture if settings is not None else None
    fps = args.fps if args.fps is not None else (cap.fps if cap else 30)
    bitrate = args.bitrate if args.bitrate is not None else (cap.bitrate if cap else 2_500_000)
    cursor = args.cursor if args.cursor is not None else (cap.cursor if cap else False)
    max_duration = args.duration if args.duration is not None else float(cap.max_duration if cap else 0)
    countdown = args.countdown or 0
    audio_mode = args.audio or (cap.audio if cap else "auto")
    mic_device = args.mic_device if args.mic_device is not None else (cap.mic_device if cap else "")
    upload = not args.no_upload and (settings is None or settings.upload.auto_upload)
    prog = "snaplark record"
    try:
        from tray.capture.encoder import recording_format

        gif_output = None
        if _format(args, cap) == "gif":  # a WebM spool, made a GIF at the end (record_gif.py)
            from tray.commands.record_gif import gif_recording_options

            max_duration, refusal = gif_recording_options(max_duration, explicit=args.duration is not None)
            if refusal:
                raise InvalidCaptureTarget(refusal)
            gif_output = args.output or _default_output(settings, ".gif")
            if gif_output.suffix.lower() != ".gif":
                raise InvalidCaptureTarget(f"--format gif writes a .gif file, not {gif_output.name!r}")
            args.output = gif_output.with_suffix(".webm")
        fmt = recording_format("webm" if gif_output else _format(args, cap))
        output = args.output or _default_output(settings, fmt.extension)
        region = parse_region(args.region) if args.region else None
        if max_duration < 0:
            raise InvalidCaptureTarget(f"--duration must not be negative, got {max_duration}")
        from tray.capture.audio import audio_spec
        from tray.capture.webcam_bubble import webcam_from_settings

        webcam = webcam_from_settings(cap, enabled=args.webcam, device=args.webcam_device, corner=args.webcam_corner)
        options = dict(format=fmt.name, region=region, monitor=args.monitor, fps=fps, bitrate=bitrate,
                       webcam=webcam, cursor=cursor, countdown=countdown, max_duration=max_duration,
                       audio=audio_spec(audio_mode, mic_device),
                       on_audio_failure=lambda f: print(f"{prog}: {f.message}", file=sys.stderr, flush=True),
                       on_countdown=lambda n: print(f"recording in {n}...", file=sys.stderr, flush=True))
        RecordingSession(output, **options).prepare()  # target / display checked before the upload engine starts
    except (InvalidCaptureTarget, NoDisplayError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2

    stack = None
    if gif_output is not None:  # nothing streams: the GIF is uploaded once it exists
        return _record(RecordingSession(output, **options), prog, fps, gif=(gif_output, settings, upload))
    if upload:
        from tray.services import UploadStack

        try:
            stack = UploadStack(settings).open()
        except Exception as exc:  # noqa: BLE001 - recording still works locally
            log.exception("upload engine unavailable")
            print(f"{prog}: upload unavailable ({exc}); recording locally only", file=sys.stderr)
    try:
        return _record(RecordingSession(output, uploader=stack.engine if stack else None, **options), prog, fps)
    finally:
        if stack is not None:
            stack.close()


def _record(session: Any, prog: str, fps: int, gif: tuple | None = None) -> int:
    from tray.capture.errors import InvalidCaptureTarget, NoDisplayError

    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            session.start()
        except (InvalidCaptureTarget, NoDisplayError) as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 2
        print(f"recording {session.metadata['resolution']} at {fps} fps to {session.path} (Ctrl+C to stop)",
              file=sys.stderr, flush=True)
        while not stop_requested.is_set() and not session.wait(0.1):
            pass
        result = session.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if result is None:
        print(f"{prog}: nothing was recorded", file=sys.stderr)
        return 1
    s = result.stats
    print(f"recorded {result.duration:.2f} s, {result.frames} frames ({s.frames_skipped_identical} unchanged "
          f"skipped, {s.frames_dropped} dropped), {result.total_bytes} bytes: {result.path}", file=sys.stderr)
    status = 0
    if result.error:
        print(f"{prog}: recording stopped early: {result.error}; kept {result.path}", file=sys.stderr)
        status = 1
    if gif is not None:
        from tray.commands.record_gif import finish

        return finish(result, *gif) or status
    if not session.uploads:
        print(result.path)
        return status
    from tray.upload.engine import LoginRequired

    try:
        print(session.link(UPLOAD_WAIT_SECONDS, stop_on_login=True))
        report(session.uploads[-1], prog)
    except KeyboardInterrupt:
        print(f"{prog}: upload continues next time snaplark runs; file kept: {result.path}", file=sys.stderr)
        return 130
    except LoginRequired:
        print(f"{prog}: the server refused the token (401): log in with `snaplark login`, then `snaplark upload "
              f"--resume` finishes the upload; file kept: {result.path}", file=sys.stderr)
        status = 1
    except Exception as exc:  # noqa: BLE001 - UploadFailed, TimeoutError
        print(f"{prog}: upload failed ({exc}); file kept: {result.path}", file=sys.stderr)
        status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    """``python -m tray.commands.record ...``: the same command without the top-level CLI."""
    parser = argparse.ArgumentParser(prog="snaplark record")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    configure(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
