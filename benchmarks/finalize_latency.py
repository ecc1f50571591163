"""Finalize answer time with the video measured in the background (issue 15): how long ``POST /videos/finalize``
takes to answer now, against how long it took when the server probed the video and made its poster before
answering (the old synchronous finalize = this finalize + the measurement, measured in the same run on the same
video and server as the time until the background job is done).

    python benchmarks/finalize_latency.py                    # 30 s 1280x720 H.264 (fragmented MP4), local + S3 (moto)
    python benchmarks/finalize_latency.py --seconds 120 --runs 5 --storage s3

Real pieces: the reference server in-process (uvicorn on an ephemeral port), local storage and S3 through moto's
ThreadedMotoServer over real HTTP (the measurement reads the object back through ``iter_range``: from S3 a full
download), a real video encoded here with PyAV (libx264 ultrafast, a keyframe every second, a moving picture),
uploaded with raw ``requests`` in 5 MiB parts. Per run: ``answer`` = the finalize request's wall time;
``measured`` = from sending finalize until the media job is done (``MediaJobs.wait_idle``). Printed: medians and
the ratio answer / measured (below 1: the answer no longer waits for the measurement).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "server"), str(ROOT / "platform")]

PART = 5 * 1024 * 1024


def make_video(path: Path, seconds: float, size=(1280, 720), fps: int = 30) -> Path:
    import numpy as np

    from tests.video_clips import FRAGMENTED_MP4, write_clip

    w, h = size
    base = np.zeros((h, w, 3), np.uint8)
    base[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    base[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    rng = np.random.default_rng(1)

    def pictures():
        for n in range(int(seconds * fps)):
            img = base.copy()
            x = (n * 7) % (w - 64)
            img[h // 3:h // 3 + 64, x:x + 64] = (255, 255, 0)
            img[:120, :160] = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)  # keeps the bitrate up
            yield img

    return write_clip(path, pictures(), fps, codec="libx264", container_options=FRAGMENTED_MP4, gop=fps,
                      options={"preset": "ultrafast", "bf": "0"})


def one_upload(thread, token: str, data: bytes) -> tuple[float, float]:
    import requests

    api = thread.api_url
    h = {"Authorization": f"Bearer {token}"}
    with requests.Session() as s:
        init = {"filename": "bench.mp4", "timestamp": 1, "fps": 30, "codec": "h264", "bitrate": 1,
                "resolution": "1280x720"}
        sid = s.post(f"{api}/videos/init", json=init, headers=h, timeout=60).json()["sessionId"]
        parts = [data[i:i + PART] for i in range(0, len(data), PART)]
        for i, part in enumerate(parts):
            r = s.post(f"{api}/videos/chunk", data={"sessionId": sid, "chunkIndex": str(i)},
                       files={"chunk": (f"chunk_{i}.mp4", part)}, headers=h, timeout=120)
            r.raise_for_status()
        started = time.perf_counter()
        r = s.post(f"{api}/videos/finalize", headers=h, timeout=600,
                   json={"sessionId": sid, "totalChunks": len(parts), "uploadedChunks": list(range(len(parts))),
                         "duration": 0, "metadata": {}})
        answered = time.perf_counter() - started
        r.raise_for_status()
        if not thread.app.state.media_jobs.wait_idle(600):
            raise RuntimeError("the media job did not finish within 600 s")
        measured = time.perf_counter() - started
        vid = r.json()["pageUrl"].rsplit("/", 1)[1]
        row = thread.app.state.db.query_one("SELECT duration, poster_key FROM objects WHERE id = ?", (vid,))
        if row["poster_key"] is None or not row["duration"]:
            raise RuntimeError(f"video {vid} was not measured")
    return answered, measured


def run(storage: str, data: bytes, runs: int, tmp: Path, moto: str | None) -> dict:
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread
    from snaplark_server.users import create_user

    cfg = dict(data_dir=tmp / f"srv-{storage}", port=0, storage=storage, cleanup_interval=3600.0,
               access_log="off")
    if storage == "s3":
        cfg.update(s3_bucket=f"bench-{uuid.uuid4().hex[:10]}", s3_endpoint_url=moto, s3_region="us-east-1")
    thread = ServerThread(ServerConfig(**cfg)).start()
    try:
        token = create_user(thread.app.state.db, "bench")
        one_upload(thread, token, data)  # warm-up: the first PyAV import and codec set-up
        results = [one_upload(thread, token, data) for _ in range(runs)]
    finally:
        thread.stop()
    answer = statistics.median(a for a, _ in results)
    measured = statistics.median(m for _, m in results)
    return {"storage": storage, "answer_s": answer, "measured_s": measured, "ratio": answer / measured,
            "runs": results}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--storage", choices=("local", "s3", "both"), default="both")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="finalize-bench-") as d:
        tmp = Path(d)
        t0 = time.perf_counter()
        data = make_video(tmp / "bench.mp4", args.seconds).read_bytes()
        print(f"video: {args.seconds:g} s 1280x720 H.264, {len(data) / 1e6:.1f} MB "
              f"(encoded in {time.perf_counter() - t0:.1f} s)")
        moto_server = None
        moto = None
        if args.storage in ("s3", "both"):
            import logging

            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log

            for k, v in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                         ("AWS_DEFAULT_REGION", "us-east-1")):
                os.environ.setdefault(k, v)
            moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            moto_server.start()
            host, port = moto_server.get_host_and_port()
            moto = f"http://{host}:{port}"
        try:
            for storage in (("local", "s3") if args.storage == "both" else (args.storage,)):
                r = run(storage, data, args.runs, tmp, moto)
                print(f"{storage:5s}: finalize answer {r['answer_s']:.3f} s (median of {args.runs}); finalize + "
                      f"measurement (the old synchronous answer) {r['measured_s']:.3f} s; ratio {r['ratio']:.3f}")
        finally:
            if moto_server is not None:
                moto_server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
