"""Parts straight to S3 vs through the server, same run, same file, same moto S3 (issue 17, acceptance 3).

    python benchmarks/direct_parts.py [--size-mib 64] [--rounds 3]

In this process: moto's S3 server and two reference servers on it, one offering presigned parts (direct_parts =
true), one not (direct_parts = false, every part through /videos/chunk); the upload engine uploads the same file to
each, alternating, ``--rounds`` times. Printed per path: MiB/s (best and median), the request-body bytes the
reference server received per MiB uploaded (its snaplark_http_request_bytes counter), and the direct/through ratio
of throughput. On one machine the bytes cross loopback either way, so the throughput ratio mostly shows the hop
saved (client -> server -> S3 becomes client -> S3); the server's share of the bytes is the point at scale.
Timing only here, never in tests.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "server"), str(REPO / "platform")]
MIB = 1024 * 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for noisy in ("werkzeug", "snaplark_server.media_jobs"):  # moto's request log; the random "video" not measured
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    from moto.server import ThreadedMotoServer
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread
    from snaplark_server.users import create_user

    from tests.integration.upload.helpers import TokenHolder, make_engine, write_random
    from tests.s3_gate import server_received_bytes
    from tray.upload.journal import UploadJournal

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    tmp = Path(tempfile.mkdtemp(prefix="direct-parts-bench-"))
    servers = {}
    for name, direct in (("direct", True), ("through", False)):
        config = ServerConfig(data_dir=tmp / name, port=0, storage="s3", s3_bucket=f"bench-{name}",
                              s3_endpoint_url=f"http://{host}:{port}", s3_region="us-east-1", access_log="off",
                              direct_parts=direct, cleanup_interval=3600.0)
        thread = ServerThread(config).start()
        servers[name] = (thread, create_user(thread.app.state.db, "bench"))
    path = tmp / "clip.webm"
    write_random(path, args.size_mib * MIB)
    speeds: dict[str, list[float]] = {name: [] for name in servers}
    try:
        for rnd in range(args.rounds):
            for name, (thread, token) in servers.items():
                journal = UploadJournal(tmp / f"journal-{name}-{rnd}.sqlite3").open()
                engine = make_engine(thread.api_url, TokenHolder(token), journal)
                try:
                    t0 = time.perf_counter()
                    engine.upload_file(path, {"fps": 30}).wait(600)
                    speeds[name].append(args.size_mib / (time.perf_counter() - t0))
                finally:
                    engine.stop(30)
                    journal.close()
        total = args.size_mib * args.rounds
        print(f"{args.size_mib} MiB x {args.rounds} rounds, 5 MiB parts, moto S3 on loopback")
        for name, (thread, _) in servers.items():
            through = sum(server_received_bytes(thread.app).values()) / MIB
            print(f"  {name:8s} best {max(speeds[name]):7.1f} MiB/s  median {statistics.median(speeds[name]):7.1f}"
                  f" MiB/s  server received {through / total * 1024:8.1f} KiB per MiB uploaded")
        ratio = statistics.median(speeds["direct"]) / statistics.median(speeds["through"])
        print(f"  direct / through throughput (medians): x{ratio:.2f}")
    finally:
        for thread, _ in servers.values():
            thread.stop(timeout=10)
        moto.stop()


if __name__ == "__main__":
    main()
