"""Upload engine throughput over loopback vs raw ``requests.post`` of the same parts, and client RSS on a big file.

    python benchmarks/upload_throughput.py [--size-mib 256] [--rss-size-mib 1024] [--rounds 2] [--part-mib 5]

The reference server runs in this process (ServerThread, ephemeral port, temp data dir). Each client run happens in
a child process (``--child``) so its RSS can be sampled with psutil from here and so engine and raw runs see the
same conditions. Per round, both clients upload the same file to the same server:

* raw: for each part, read it from disk and ``requests.post`` it (same multipart fields incl. sha256, computed
  before the clock starts) on one ``requests.Session``, then finalize;
* engine: ``UploadEngine.upload_file(...).wait()`` (init, parts with sha256 read from disk, part 0 last, journal
  commits; ``--whole-file-sha`` adds the optional whole-file sha256 at finalize).

Reported: MiB/s of each (best of ``--rounds``), their ratio (goal ≥ 0.9), and the engine child's RSS samples while
uploading a ``--rss-size-mib`` file (goal: flat, ≤ 120 MiB). Timing only here, never in tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[1]


def write_random(path: Path, size: int) -> None:
    rng = random.Random(1)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 4 * MIB)
            f.write(rng.randbytes(n))
            left -= n


# ----------------------------------------------------------------------------- child side
def child_raw(api_url: str, token: str, path: Path, part_size: int) -> dict:
    import requests

    size = path.stat().st_size
    ranges = [(i, off, min(part_size, size - off)) for i, off in enumerate(range(0, size, part_size))]
    shas = {}
    with open(path, "rb") as f:
        for i, off, n in ranges:
            f.seek(off)
            shas[i] = hashlib.sha256(f.read(n)).hexdigest()
    s = requests.Session()
    h = {"Authorization": f"Bearer {token}"}
    meta = {"filename": path.name, "timestamp": 1, "fps": 30, "codec": "vp9", "bitrate": 1, "resolution": "1x1"}
    t0 = time.perf_counter()
    sid = s.post(f"{api_url}/videos/init", json=meta, headers=h, timeout=30).json()["sessionId"]
    with open(path, "rb") as f:
        for i, off, n in ranges:
            f.seek(off)
            data = f.read(n)
            r = s.post(f"{api_url}/videos/chunk", headers=h, timeout=120,
                       files={"sessionId": (None, sid), "chunkIndex": (None, str(i)), "sha256": (None, shas[i]),
                              "chunk": (f"chunk_{i}.webm", data, "video/webm")})
            r.raise_for_status()
    r = s.post(f"{api_url}/videos/finalize", headers=h, timeout=300,
               json={"sessionId": sid, "totalChunks": len(ranges), "uploadedChunks": [r[0] for r in ranges],
                     "duration": 0.0, "metadata": {}})
    r.raise_for_status()
    return {"seconds": time.perf_counter() - t0, "bytes": size}


def child_engine(api_url: str, token: str, path: Path, part_size: int, journal_path: Path,
                 whole_file_sha: bool = False) -> dict:
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    journal = UploadJournal(journal_path).open()
    engine = UploadEngine(lambda: ApiClient(api_url, lambda: token), journal, part_size=part_size,
                          verify_whole_file=whole_file_sha)
    t0 = time.perf_counter()
    url = engine.upload_file(path).wait(3600)
    seconds = time.perf_counter() - t0
    engine.stop()
    journal.close()
    return {"seconds": seconds, "bytes": path.stat().st_size, "url": url}


def child_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", choices=["raw", "engine"], required=True)
    ap.add_argument("--api-url", required=True)
    ap.add_argument("--file", type=Path, required=True)
    ap.add_argument("--part-size", type=int, required=True)
    ap.add_argument("--journal", type=Path)
    ap.add_argument("--whole-file-sha", action="store_true")
    a = ap.parse_args(argv)
    token = os.environ["BENCH_TOKEN"]
    if a.child == "raw":
        out = child_raw(a.api_url, token, a.file, a.part_size)
    else:
        out = child_engine(a.api_url, token, a.file, a.part_size, a.journal, a.whole_file_sha)
    print(json.dumps(out), flush=True)
    return 0


# ----------------------------------------------------------------------------- parent side
def run_child(kind: str, api_url: str, token: str, path: Path, part_size: int, work: Path,
              sample_rss: bool = False, extra: tuple[str, ...] = ()) -> tuple[dict, list[float]]:
    import psutil

    os.sync()  # the previous run's dirty pages must not slow this one down
    time.sleep(1.0)
    cmd = [sys.executable, __file__, "--child", kind, "--api-url", api_url, "--file", str(path),
           "--part-size", str(part_size), "--journal", str(work / f"journal-{time.monotonic_ns()}.sqlite3"),
           *extra]
    env = {**os.environ, "BENCH_TOKEN": token, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    samples: list[float] = []
    ps = psutil.Process(proc.pid)
    deadline = time.monotonic() + 3600
    while proc.poll() is None and time.monotonic() < deadline:
        if sample_rss:
            try:
                samples.append(ps.memory_info().rss / MIB)
            except psutil.Error:
                pass
        time.sleep(0.1)
    out, err = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} child failed: {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), samples


def main() -> int:
    if "--child" in sys.argv:
        return child_main(sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rss-size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--part-mib", type=int, default=5)
    ap.add_argument("--whole-file-sha", action="store_true",
                    help="engine with the optional whole-file sha256 at finalize (verify_whole_file=True)")
    args = ap.parse_args()
    extra = ("--whole-file-sha",) if args.whole_file_sha else ()

    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread
    from snaplark_server.users import ensure_local_user

    part_size = args.part_mib * MIB
    with tempfile.TemporaryDirectory(prefix="snaplark-bench-") as tmp:
        work = Path(tmp)
        data_dir = work / "server"
        srv = ServerThread(ServerConfig(port=0, data_dir=data_dir)).start()
        try:
            token = ensure_local_user(data_dir, "bench")
            path = work / "bench.webm"
            write_random(path, args.size_mib * MIB)
            raw_runs, engine_runs = [], []
            for r in range(args.rounds):
                order = ("raw", "engine") if r % 2 == 0 else ("engine", "raw")
                for kind in order:
                    res, _ = run_child(kind, srv.api_url, token, path, part_size, work, extra=extra)
                    mibps = res["bytes"] / MIB / res["seconds"]
                    (raw_runs if kind == "raw" else engine_runs).append(mibps)
                    print(f"round {r + 1}: {kind:<6} {res['bytes'] / MIB:.0f} MiB in {res['seconds']:.2f} s "
                          f"= {mibps:.1f} MiB/s", flush=True)
            raw_best, engine_best = max(raw_runs), max(engine_runs)
            paired = sorted(e / r for e, r in zip(engine_runs, raw_runs))
            median = paired[len(paired) // 2] if len(paired) % 2 else sum(paired[len(paired) // 2 - 1:][:2]) / 2
            print(f"\nthroughput ({args.size_mib} MiB, {args.part_mib} MiB parts, loopback, {args.rounds} rounds, "
                  f"order alternating): raw requests.post best {raw_best:.1f} MiB/s, engine best "
                  f"{engine_best:.1f} MiB/s, ratio of bests {engine_best / raw_best:.2f}, median per-round ratio "
                  f"{median:.2f} (goal >= 0.9)")
            path.unlink()

            big = work / "big.webm"
            write_random(big, args.rss_size_mib * MIB)
            res, samples = run_child("engine", srv.api_url, token, big, part_size, work, sample_rss=True,
                                     extra=extra)
            steady = samples[len(samples) // 5:] or samples
            print(f"\nRSS while uploading {args.rss_size_mib} MiB with the engine ({len(samples)} samples, "
                  f"{res['bytes'] / MIB / res['seconds']:.1f} MiB/s): min {min(samples):.1f} MiB, "
                  f"max {max(samples):.1f} MiB, last-80% spread {max(steady) - min(steady):.1f} MiB "
                  f"(goal flat, <= 120 MiB)")
        finally:
            srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
