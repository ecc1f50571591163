"""Frame-accurate trim: re-encoding only the edge (to the first keyframe after the start) vs re-encoding the whole
range, same clip, same run (issue 15).

    python benchmarks/trim.py [--seconds 30] [--size 1280x720] [--rounds 3]

A recorder-like clip per container (VP9 realtime in WebM, x264 superfast/zerolatency in fragmented MP4, a keyframe
every 5 s as tray.capture.encoder writes them, a moving desktop-like picture) is cut from 2.5 s to the end both ways
with server/snaplark_server/trim_cut.py; printed per container: wall and CPU seconds (median of the rounds), the
edge/whole ratios, and the luma PSNR of a frame in the copied part (at 20 s, or 2 s before the end) against the source -- the edge
cut keeps the recorder's own bytes there, the whole re-encode loses a little. Timing only here, never in tests.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "server"), str(REPO / "platform")]
KEYFRAME_SECONDS = 5
FPS = 30


def make_clip(path: Path, seconds: float, size: tuple[int, int]) -> Path:
    import numpy as np

    from tests.video_clips import FRAGMENTED_MP4, write_clip

    w, h = size
    base = np.zeros((h, w, 3), np.uint8)
    base[..., 0] = np.linspace(30, 220, w, dtype=np.uint8)[None, :]
    base[..., 2] = np.linspace(200, 40, h, dtype=np.uint8)[:, None]
    for y in range(40, h - 40, 24):  # "text" lines
        base[y:y + 6, 60:w - 200:7] = 250

    def pictures():
        for n in range(int(seconds * FPS)):
            img = base.copy()
            x = (n * 7) % (w - 120)
            img[h // 3:h // 3 + 90, x:x + 120] = (240, 240, 40)  # a moving window
            yield img

    common = {"gop": KEYFRAME_SECONDS * FPS, "bit_rate": 2_000_000}
    if path.suffix == ".mp4":
        return write_clip(path, pictures(), FPS, codec="libx264", container_options=FRAGMENTED_MP4,
                          options={"preset": "superfast", "tune": "zerolatency"}, **common)
    return write_clip(path, pictures(), FPS, options={"deadline": "realtime", "cpu-used": "8", "row-mt": "1",
                                                      "lag-in-frames": "0"}, **common)


def frame_at(path: Path, t: float):
    import av

    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            if frame.time is not None and frame.time >= t - 0.5 / FPS:
                return frame.to_ndarray(format="gray").astype(float)
    raise RuntimeError(f"no frame at {t} in {path}")


def psnr(a, b) -> float:
    mse = float(((a - b) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def main() -> None:
    import av
    from snaplark_server.trim_cut import cut

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    start, probe_t = 2.5, min(20.0, args.seconds - 2)
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("webm", "mp4"):
            src = make_clip(Path(tmp) / f"src.{ext}", args.seconds, size)
            reference = frame_at(src, probe_t)
            results = {}
            for round_ in range(args.rounds):
                for whole in ((False, True) if round_ % 2 == 0 else (True, False)):  # alternate the order
                    dest = Path(tmp) / f"cut-{whole}.{ext}"
                    wall, cpu = time.perf_counter(), time.process_time()
                    with av.open(str(src)) as c:
                        result = cut(c, dest, start, args.seconds, ext, whole=whole)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    entry = results.setdefault(whole, {"wall": [], "cpu": [], "result": result, "dest": dest})
                    entry["wall"].append(wall)
                    entry["cpu"].append(cpu)
            print(f"{ext}: {args.seconds:g} s {args.size}, cut {start}-{args.seconds:g} s, {args.rounds} rounds")
            for whole in (False, True):
                e = results[whole]
                quality = psnr(frame_at(e["dest"], probe_t - e["result"].start), reference)
                print(f"  {e['result'].method:5s} re-encoded to {e['result'].reencoded_until}: wall "
                      f"{statistics.median(e['wall']):.2f} s, CPU {statistics.median(e['cpu']):.2f} s, "
                      f"{e['dest'].stat().st_size / 1e6:.2f} MB, luma PSNR at {probe_t:g} s {quality:.1f} dB")
            edge, full = results[False], results[True]
            print(f"  edge/whole: wall x{statistics.median(edge['wall']) / statistics.median(full['wall']):.3f}, "
                  f"CPU x{statistics.median(edge['cpu']) / statistics.median(full['cpu']):.3f}")


if __name__ == "__main__":
    main()
