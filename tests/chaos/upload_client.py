"""A client process for the kill -9 chaos test: uploads FILE (or records it growing) through the engine.

    python -m tests.chaos.upload_client API_URL JOURNAL FILE [--grow SIZE]

The token comes from $SNAPLARK_TOKEN. Prints "started <upload id>" once the session is journaled.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

from tray.api.client import ApiClient
from tray.upload.backoff import Sleeper
from tray.upload.engine import UploadEngine
from tray.upload.journal import UploadJournal

from tests.integration.upload.helpers import GrowingFile


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("api_url")
    ap.add_argument("journal", type=Path)
    ap.add_argument("file", type=Path)
    ap.add_argument("--grow", type=int, default=0)
    ap.add_argument("--hold-at", type=int, default=None, help="stop writing at this many bytes (until killed)")
    args = ap.parse_args()
    token = os.environ["SNAPLARK_TOKEN"]
    journal = UploadJournal(args.journal).open()
    engine = UploadEngine(lambda: ApiClient(args.api_url, lambda: token), journal, sleeper=Sleeper(scale=0.01),
                          rng=random.Random(0))
    if args.grow:
        up = engine.start_recording_upload(args.file)
        print(f"started {up.id}", flush=True)
        writer = GrowingFile(args.file, args.grow, step=512 * 1024, pause=0.01, hold_at=args.hold_at,
                             hold_timeout=300)
        writer.start(up)
        writer.join(300)
    else:
        up = engine.upload_file(args.file)
        print(f"started {up.id}", flush=True)
    print(up.wait(300), flush=True)
    engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
