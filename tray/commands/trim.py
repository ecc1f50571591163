"""``snaplark trim LINK --start S [--end S] [--server URL]``: the server cuts the video (frame-accurate on this
reference server: the frames up to the first keyframe after ``--start`` are encoded again, the rest copied; a server
that only stream-copies moves the start back to a keyframe) -- what it did is printed -- and the same links serve the
trimmed video. Only the owner's token can; a server without the trim extension is named as such."""

from __future__ import annotations

import argparse
import math
import sys

from tray.commands.owner_actions import OwnerAction, UsageError, run_owner_action


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("link", metavar="LINK", help="the video's share page or file link")
    parser.add_argument("--start", type=_seconds, default=0.0, metavar="S", help="keep from here (seconds)")
    parser.add_argument("--end", type=_seconds, default=None, metavar="S", help="keep up to here (default: the end)")
    parser.add_argument("--server", metavar="URL", help="API base URL (default: server.url from the settings; "
                                                       "empty there = the embedded server)")


def run(args: argparse.Namespace, *, connection=None) -> int:
    if args.end is not None and args.end <= args.start:
        print(f"snaplark trim: --end ({args.end:g}) must be after --start ({args.start:g})", file=sys.stderr)
        return 2

    def act(client, kind: str, object_id: str) -> str:
        if kind != "video":
            raise UsageError(f"{args.link} is a screenshot; only videos can be trimmed")
        a = client.trim_video(object_id, args.start, args.end)
        asked_end = "the end" if args.end is None else f"{args.end:g} s"
        how = {"copy": "the start is a keyframe: stream copy",
               "edge": f"re-encoded up to the keyframe at {a.get('reencodedUntil') or 0:.3f} s, the rest copied",
               "whole": f"re-encoded the whole range ({a.get('reason') or 'no splice possible'})"}.get(
            a.get("method"), "the start is the keyframe at or before it")
        return (f"trimmed {args.link} to {a['start']:.3f}-{a['end']:.3f} s ({a['duration']:.3f} s long); asked for "
                f"{args.start:g} s to {asked_end}; {how}")

    return run_owner_action(OwnerAction("trim", "trim videos", "video"), args, act, connection=connection,
                            out=sys.stdout)
