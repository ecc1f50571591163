"""``snaplark record --format gif``: record to the normal spool (WebM, local only), convert it to an animated GIF
when the recording stops (:mod:`tray.capture.gif`: one palette per clip, no dithering, at most 15 fps and 960 px,
at most 60 s), then upload the GIF as an image (``image/gif``) and print its link, or print its path.

The recording stops by itself at the GIF limit (60 s) and says so; ``--duration`` longer than the limit is refused
before anything is recorded (exit 2). The WebM spool is removed once the GIF is written; if the conversion fails it
is kept and named.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

PROG = "snaplark record"


def gif_recording_options(max_duration: float, *, explicit: bool) -> tuple[float, str | None]:
    """The recorder's max duration for a GIF (the limit when none or a longer one is set in the settings), and the
    refusal of an ``explicit`` ``--duration`` longer than the limit."""
    from tray.capture.gif import GIF_MAX_SECONDS, gif_max_duration

    if max_duration > GIF_MAX_SECONDS and explicit:
        return 0.0, (f"--duration {max_duration:g} is longer than GIF clips may be ({GIF_MAX_SECONDS} s): record "
                     "as webm or mp4 (--format webm), or ask for less")
    return gif_max_duration(max_duration), None


def finish(result: Any, gif_path: Path, settings: Any, upload: bool) -> int:
    """After the recording stopped: convert, remove the spool, upload or print the path. Returns the exit code."""
    from tray.capture.gif import GIF_MAX_SECONDS, GifTooLong, convert_to_gif, stopped_at_limit

    spool = Path(result.path)
    if stopped_at_limit(result.duration):
        print(f"{PROG}: stopped at the GIF limit of {GIF_MAX_SECONDS} s", file=sys.stderr)
    try:
        gif = convert_to_gif(spool, gif_path, duration=result.duration)
    except GifTooLong as exc:
        print(f"{PROG}: {exc}; the recording is kept at {spool}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the spool stays: nothing is lost
        print(f"{PROG}: could not make the GIF ({type(exc).__name__}: {exc}); the recording is kept at {spool}",
              file=sys.stderr)
        return 1
    spool.unlink(missing_ok=True)
    print(f"{gif.describe()}: {gif.path}", file=sys.stderr)
    from tray.commands.gif import record_in_history

    record_in_history(gif.path, None, gif.duration, prog=PROG)
    if not upload:
        print(gif.path)
        return 0
    from tray.commands.shot import _upload

    return _upload(settings, gif.path, argparse.Namespace(timeout=600.0, copy=False), prog=PROG, what="GIF")
