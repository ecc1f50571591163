"""``--expires DURATION`` of ``snaplark upload``, ``shot`` and ``record``: how long the server keeps the upload
(``7d``, ``12h``, ``30m``, ``2w``, seconds, or ``never``), else the ``upload.expires`` setting (the engine's
default: tray.upload.engine). The engine sends it as
the extension field ``expiresIn`` (at finalize for a video, a form field with a screenshot); a server that took it
answers ``expiresAt``, which is said on stderr. A seed-only server ignores the field: when an expiry was asked for
and the answer has no ``expiresAt``, the user is told the link will not expire."""

from __future__ import annotations

import argparse
import sys
from typing import Any

NEVER = 0  # --expires never: overrides a configured upload.expires


def _duration(text: str) -> int:
    from tray.config.validation import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return NEVER if seconds is None else seconds


def add_expires_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expires", type=_duration, default=None, metavar="DURATION",
                        help="delete the upload on the server after this long: 7d, 12h, 30m, 2w, seconds, or never "
                             "(default: upload.expires; servers without the expiry extension keep it)")


def metadata_for(args: argparse.Namespace) -> dict[str, Any] | None:
    """The upload metadata ``--expires`` asks for: None when not given (the engine applies ``upload.expires``),
    ``{"expiresIn": None}`` for ``never``, else ``{"expiresIn": seconds}``."""
    asked = getattr(args, "expires", None)
    if asked is None:
        return None
    return {"expiresIn": asked or None}


def default_seconds(settings: Any) -> int | None:
    """``upload.expires`` in seconds (the engine's default), None for never or without settings."""
    from tray.config.validation import parse_duration

    return parse_duration(settings.upload.expires) if settings is not None else None


def with_flag(settings: Any, args: argparse.Namespace) -> Any:
    """``settings`` with ``upload.expires`` replaced by ``--expires`` when given, for commands whose uploads start
    in code that reads the settings (``snaplark record``: the engine streaming the recording, and the GIF made at
    the end and uploaded as an image)."""
    asked = getattr(args, "expires", None)
    if asked is None or settings is None:
        return settings
    import dataclasses

    upload = dataclasses.replace(settings.upload, expires=f"{asked}s" if asked else "never")
    return dataclasses.replace(settings, upload=upload)


def report(upload: Any, prog: str, server: str | None = None) -> None:
    """After an upload completed: say until when it lives, or that the server ignored the expiry asked for."""
    asked = (getattr(upload, "metadata", None) or {}).get("expiresIn")
    expires_at = getattr(upload, "expires_at", None)
    if expires_at:
        print(f"{prog}: {upload.url} expires at {expires_at}", file=sys.stderr)
    elif asked:
        where = server or "the server"
        print(f"{prog}: {where} ignored the expiry (it has no expiry extension, e.g. a seed-only server); "
              f"{upload.url} stays until someone deletes it", file=sys.stderr)


__all__ = ["add_expires_argument", "default_seconds", "metadata_for", "report", "with_flag"]
