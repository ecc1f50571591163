"""``snaplark gif RECORDING [--out FILE.gif] [--start S] [--end S] [--upload]``: "Save as GIF" for a finished
recording (WebM or MP4: a spool, a saved recording, anything PyAV reads), through the converter of ``record
--format gif`` (:mod:`tray.capture.gif`: one palette per clip, no dithering, at most 15 fps and 960 px).

At most 60 s of it: a longer recording needs ``--start``/``--end`` (the message says so). The GIF goes next to the
recording (``NAME.gif``) unless ``--out`` says where; an existing file is never overwritten (``--overwrite``), and
the GIF is written to a ``.part`` file renamed at the end, so a failed conversion leaves nothing behind.
``--upload`` uploads it as an image (``image/gif``) and prints the link; otherwise its path is printed. Either way the
upload journal records it (kind "gif"): the History window and ``snaplark history`` list it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tray.commands.trim import _seconds

PROG = "snaplark gif"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", type=Path, metavar="RECORDING", help="the recording (.webm or .mp4)")
    parser.add_argument("--out", "-o", type=Path, metavar="FILE", help="where to write the GIF (default: the "
                                                                        "recording's name with .gif)")
    parser.add_argument("--start", type=_seconds, default=0.0, metavar="S", help="from here (seconds; default 0)")
    parser.add_argument("--end", type=_seconds, default=None, metavar="S",
                        help="up to here (seconds; default: the end)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing GIF at the output path")
    parser.add_argument("--upload", action="store_true", help="upload the GIF and print its link")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="S",
                        help="with --upload: how long to wait for it (default 600)")
    parser.add_argument("--copy", action="store_true", help="with --upload: copy the link to the clipboard")


def _err(text: str) -> None:
    print(f"{PROG}: {text}", file=sys.stderr)


def _probe(src: Path) -> tuple[float, str | None]:
    """(length in seconds, None) of a readable video, or (0, what is wrong with the file)."""
    import av

    from tray.capture.gif import clip_duration

    try:
        with av.open(str(src)) as container:
            if not container.streams.video:
                return 0.0, f"{src} has no video stream (is it an audio file?)"
        return clip_duration(src), None
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        return 0.0, f"{src} is not a video file that can be read ({type(exc).__name__}: {exc})"


def check(args: argparse.Namespace) -> tuple[Path | None, float, str | None]:
    """(the output path, the recording's length, None) or (None, 0, the usage problem, named)."""
    src: Path = args.recording
    if not src.is_file():
        return None, 0.0, f"{src}: no such file" if not src.exists() else f"{src} is not a file"
    if args.end is not None and args.end <= args.start:
        return None, 0.0, f"--end ({args.end:g}) must be after --start ({args.start:g})"
    out = args.out or src.with_suffix(".gif")
    if out.suffix.lower() != ".gif":
        return None, 0.0, f"--out {out}: the file name must end in .gif"
    if out.resolve() == src.resolve():
        return None, 0.0, f"--out {out} is the recording itself"
    if out.exists() and not args.overwrite:
        return None, 0.0, f"{out} exists: choose another --out, or add --overwrite to replace it"
    length, problem = _probe(src)
    if problem:
        return None, 0.0, problem
    if args.start >= length:
        return None, 0.0, f"--start {args.start:g} is at or past the end of {src.name} (it lasts {length:.2f} s)"
    return out, length, None


def run(args: argparse.Namespace) -> int:
    from tray.capture.gif import GIF_MAX_SECONDS, GifTooLong, save_gif

    out, length, problem = check(args)
    if out is None:
        _err(problem or "nothing to do")
        return EXIT_USAGE
    end = args.end
    if end is not None and end > length:
        _err(f"--end {end:g} is after the end of {args.recording.name} ({length:.2f} s): up to the end")
        end = None
    span = (length if end is None else end) - args.start
    if span > GIF_MAX_SECONDS + 0.25:
        _err(f"GIF clips are limited to {GIF_MAX_SECONDS} s and {args.recording.name} from {args.start:g} s to "
             f"{'the end' if end is None else f'{end:g} s'} is {span:.1f} s: pick at most {GIF_MAX_SECONDS} s with "
             f"--start/--end")
        return EXIT_USAGE
    try:
        gif = save_gif(args.recording, out, start=args.start, end=end, duration=length)
    except GifTooLong as exc:  # the container said less than the frames do: still the limit, named
        _err(str(exc))
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the recording is only read: nothing is lost
        _err(f"could not make the GIF from {args.recording} ({type(exc).__name__}: {exc})")
        return EXIT_FAILED
    print(f"{gif.describe()}: {out}", file=sys.stderr)
    record_in_history(out, args.recording, gif.duration)
    if not args.upload:
        print(out)
        return EXIT_OK
    from tray.commands.shot import _settings, _upload

    return _upload(_settings(args), out, args, prog=PROG, what="GIF")


def record_in_history(gif: Path, recording: Path | None, duration: float, prog: str = PROG) -> None:
    """The GIF into the upload journal (History and ``snaplark history`` list it, kind "gif"; an upload of it keeps
    that kind); ``recording``: what it was made from (None: a spool now gone). The GIF is written already: a
    journal that cannot be written is said, not fatal."""
    from tray.services import open_upload_history
    from tray.upload.journal import JournalError

    try:
        with open_upload_history() as history:
            history.record_saved("gif", gif, source=recording, duration=duration)
    except (JournalError, OSError) as exc:
        print(f"{prog}: the GIF is saved, but the history could not record it: {exc}", file=sys.stderr)
