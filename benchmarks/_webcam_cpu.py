"""``benchmarks/recording.py --webcam``: the CPU the webcam bubble adds to a recording (issue 19, acceptance 5).

For each size and scene of recording.py (a private Xvfb with the pattern scene), our recorder records the same
screen twice, without and with the bubble, alternating which goes first, ``--repeat`` times; the camera is the
file-fed adapter playing ``CAMERA`` (640x480 at 30 fps, MJPEG: what USB webcams deliver) in a loop, so decoding
the camera's pictures is counted as a real camera's would be. Printed per run: CPU seconds (user+sys of the whole
child, from rusage), frames, the CPU the bubble adds in % of one core over the recording, and the with / without
ratio; then the medians.

``--webcam-before TREE`` (issue 19, the bubble's CPU): also "with the webcam" run from the code in TREE (e.g. a
``git worktree`` of the commit before a change), interleaved with the others in the same run, so before/after
figures share the machine's load; the load average is printed with each run.

Measured (issue 19, 1080p, 6 s, load 3.4-4.9 from other work; e54220e against 8abc81e in the same runs): still
screen +35.0 / +37.0 % of a core (x2.78 / x2.77) against +75.4 / +78.5 % before (x5.04 / x4.74); moving +9.9 / +13.7 %
against +10.3 / +17.6 %. What is left on a still screen is mostly libvpx: ~12-15 ms to encode even an unchanged 1080p
frame (realtime, cpu-used 8), 15 times a second; the redraw costs ~2 ms, the camera ~3 ms a picture.
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
sys.path.remove("")  # python -c puts the working directory first: the code must come from PYTHONPATH's tree
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
                  "grabs": s.ticks - s.grabs_skipped_unchanged - getattr(s, "frames_redrawn", 0),
                  "redrawn": getattr(s, "frames_redrawn", 0), "error": r.error}))
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


def run(display: str, w: int, h: int, args, out: Path, camera: Path | None, tree: Path | None = None) -> dict:
    from recording import REPO, run_child

    tree = tree or REPO
    rc, so, se, cpu, wall, rss = run_child(
        [sys.executable, "-c", CHILD, str(out), str(w), str(h), str(args.fps), str(args.bitrate), str(args.seconds),
         str(camera) if camera else "-"],
        {**os.environ, "DISPLAY": display, "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "platform")])},
        args.seconds * 6 + 60)
    if rc != 0:
        raise RuntimeError(f"recorder failed: {se[-2000:]}")
    info = json.loads(so.strip().splitlines()[-1])
    return {"webcam": camera is not None, "cpu": cpu, "wall": wall, "rss_mib": rss / 2**20, **info}


def added(plain: dict, cam: dict, seconds: float) -> dict:
    """The CPU ``cam`` adds to ``plain``: in % of one core over the recording, and as a ratio."""
    return {"added_core_pct": (cam["cpu"] - plain["cpu"]) / seconds * 100, "ratio": cam["cpu"] / plain["cpu"]}


def main_webcam(args) -> int:
    import tempfile

    from _pattern_scene import PatternScene
    from recording import start_pattern, start_xvfb, stop

    rows = []
    before = Path(args.webcam_before).resolve() if getattr(args, "webcam_before", None) else None
    if before is not None and not (before / "tray" / "capture" / "recorder.py").is_file():
        raise SystemExit(f"--webcam-before {before}: not a Snaplark source tree (no tray/capture/recorder.py)")
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
                            kinds = ["plain", "cam"] + (["old"] if before else [])
                            order = kinds[k % len(kinds):] + kinds[:k % len(kinds)]
                            got = {}
                            for kind in order:
                                got[kind] = run(display, w, h, args, Path(tmp) / f"{size}-{scene_name}-{k}-{kind}.webm",
                                                None if kind == "plain" else camera, before if kind == "old" else None)
                                got[kind]["load1"] = os.getloadavg()[0]
                            plain = got["plain"]
                            row = {"size": size, "scene": scene_name, "without": plain, "with": got["cam"],
                                   **added(plain, got["cam"], args.seconds)}
                            line = (f"{size} {scene_name:6} run {k}: CPU {plain['cpu']:.2f} s without, "
                                    f"{got['cam']['cpu']:.2f} s with the webcam ({plain['frames']} / "
                                    f"{got['cam']['frames']} frames, {got['cam']['grabs']} grabs, "
                                    f"{got['cam']['redrawn']} redrawn): +{row['added_core_pct']:.1f} % of a core, "
                                    f"x{row['ratio']:.2f}")
                            if before:
                                old = added(plain, got["old"], args.seconds)
                                row.update(before=got["old"], before_added_core_pct=old["added_core_pct"],
                                           before_ratio=old["ratio"])
                                line += (f"; BEFORE ({before.name}): {got['old']['cpu']:.2f} s, {got['old']['frames']} "
                                         f"frames, {got['old']['grabs']} grabs: +{old['added_core_pct']:.1f} % of a "
                                         f"core, x{old['ratio']:.2f}")
                            rows.append(row)
                            print(line + f" [load {min(r['load1'] for r in got.values()):.2f}-"
                                  f"{max(r['load1'] for r in got.values()):.2f}]", flush=True)
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
                  f"@ {CAMERA[2]} fps MJPEG, file-fed)" + (
                      f"; BEFORE: adds {statistics.median(r['before_added_core_pct'] for r in mine):.1f} % of a core, "
                      f"x{statistics.median(r['before_ratio'] for r in mine):.2f}" if before else ""))
    if args.json:
        args.json.write_text(json.dumps({"webcam": rows}, indent=2))
    return 0
