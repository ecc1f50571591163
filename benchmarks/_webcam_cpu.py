"""``benchmarks/recording.py --webcam``: the CPU the webcam bubble adds to a recording (issue 19, acceptance 5).

For each size and scene of recording.py (a private Xvfb with the pattern scene), our recorder records the same
screen twice, without and with the bubble, alternating which goes first, ``--repeat`` times; the camera is the
file-fed adapter playing ``CAMERA`` (640x480 at 30 fps, MJPEG: what USB webcams deliver) in a loop, so decoding
the camera's pictures is counted as a real camera's would be. Printed per run: CPU seconds (user+sys of the whole
child, from rusage), frames, the CPU the bubble adds in % of one core over the recording, and the with / without
ratio; then the medians.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

CAMERA = (640, 480, 30)

CHILD = r"""
import json, sys, time
from tray.capture.recorder import Recorder
from tray.capture.webcam_bubble import WebcamSpec
from tray_platform.base import Region
out, w, h, fps, bitrate, seconds, camera = sys.argv[1], *map(int, sys.argv[2:6]), float(sys.argv[6]), sys.argv[7]
rec = Recorder(out, region=Region(0, 0, w, h), fps=fps, bitrate=bitrate, max_duration=seconds, cursor=False,
               webcam=WebcamSpec(device=f"file:{camera}") if camera != "-" else None)
rec.start()
assert rec.wait(seconds * 6 + 30), "recorder did not finish"
r, s = rec.result, rec.result.stats
print(json.dumps({"frames": r.frames, "duration": r.duration, "ticks": s.ticks, "dropped": s.frames_dropped,
                  "error": r.error}))
"""


def camera_file(path: Path, seconds: float = 4.0) -> Path:
    """A moving, noisy 640x480 MJPEG clip (a face-sized blob over noise), ``seconds`` long."""
    import numpy as np

    from tests.video_clips import write_clip

    w, h, fps = CAMERA
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:h, 0:w]

    def picture(i: int):
        rgb = rng.integers(60, 120, (h, w, 3), dtype=np.uint8)
        cx, cy = w // 2 + int(80 * np.sin(i / 10)), h // 2 + int(40 * np.cos(i / 13))
        rgb[(xx - cx) ** 2 + (yy - cy) ** 2 < 120 ** 2] = (220, 170, 140)
        return rgb

    return write_clip(path, (picture(i) for i in range(round(seconds * fps))), fps, codec="mjpeg",
                      pix_fmt="yuvj420p")


def run(display: str, w: int, h: int, args, out: Path, camera: Path | None) -> dict:
    from recording import REPO, run_child

    rc, so, se, cpu, wall, rss = run_child(
        [sys.executable, "-c", CHILD, str(out), str(w), str(h), str(args.fps), str(args.bitrate), str(args.seconds),
         str(camera) if camera else "-"],
        {**os.environ, "DISPLAY": display, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "platform")])},
        args.seconds * 6 + 60)
    if rc != 0:
        raise RuntimeError(f"recorder failed: {se[-2000:]}")
    info = json.loads(so.strip().splitlines()[-1])
    return {"webcam": camera is not None, "cpu": cpu, "wall": wall, "rss_mib": rss / 2**20, **info}


def main_webcam(args) -> int:
    import tempfile

    from _pattern_scene import PatternScene
    from recording import start_pattern, start_xvfb, stop

    rows = []
    with tempfile.TemporaryDirectory(prefix="snaplark-webcam-bench-") as tmp:
        camera = camera_file(Path(tmp) / "camera.mkv")
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            xvfb, display = start_xvfb(w, h)
            try:
                for scene_name in args.scenes.split(","):
                    pattern, _ = start_pattern(display, PatternScene(w, h, moving=scene_name == "moving"))
                    try:
                        for k in range(args.repeat):
                            order = [None, camera] if k % 2 == 0 else [camera, None]
                            got = {bool(cam): run(display, w, h, args, Path(tmp) / f"{size}-{scene_name}-{k}-"
                                                  f"{'cam' if cam else 'plain'}.webm", cam) for cam in order}
                            added = (got[True]["cpu"] - got[False]["cpu"]) / args.seconds * 100
                            row = {"size": size, "scene": scene_name, "without": got[False], "with": got[True],
                                   "added_core_pct": added, "ratio": got[True]["cpu"] / got[False]["cpu"]}
                            rows.append(row)
                            print(f"{size} {scene_name:6} run {k}: CPU {got[False]['cpu']:.2f} s without, "
                                  f"{got[True]['cpu']:.2f} s with the webcam ({got[False]['frames']} / "
                                  f"{got[True]['frames']} frames): +{added:.1f} % of a core, "
                                  f"x{row['ratio']:.2f}", flush=True)
                    finally:
                        stop(pattern)
            finally:
                stop(xvfb)
    for size in args.sizes.split(","):
        for scene_name in args.scenes.split(","):
            mine = [r for r in rows if r["size"] == size and r["scene"] == scene_name]
            print(f"{size} {scene_name:6} MEDIAN of {len(mine)}: webcam adds "
                  f"{statistics.median(r['added_core_pct'] for r in mine):.1f} % of a core, CPU ratio with/without "
                  f"{statistics.median(r['ratio'] for r in mine):.2f} (camera {CAMERA[0]}x{CAMERA[1]} "
                  f"@ {CAMERA[2]} fps MJPEG, file-fed)")
    if args.json:
        args.json.write_text(json.dumps({"webcam": rows}, indent=2))
    return 0
