"""``snaplark devices``: the audio inputs a recording can use (microphones) and the output monitors (what an
output device plays: "system sound"), with the defaults marked. Use an id or a name as the mic/system device.

Exit status: 0 listed, 1 no audio server / no audio support on this machine.
"""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from tray_platform.base import AudioUnavailable

    from tray.capture.audio import list_audio_devices

    try:
        devices = list_audio_devices()
    except AudioUnavailable as exc:
        print(f"snaplark devices: {exc}", file=sys.stderr)
        return 1
    for title, kind in (("Microphones", "mic"), ("Output monitors (system sound)", "monitor")):
        rows = [d for d in devices if d.kind == kind]
        print(f"{title}:")
        if not rows:
            print("  (none)")
        width = max((len(d.id) for d in rows), default=0)
        for d in rows:
            print(f"  {d.id:<{width}}  {d.name}{'  (default)' if d.is_default else ''}")
    return 0
