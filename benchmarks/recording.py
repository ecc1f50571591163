"""Recording benchmark: Snaplark's recorder vs ``ffmpeg -f x11grab`` with the same codec settings, side by side.

For each screen size (1920x1080 and 1280x720 by default) a private Xvfb shows a test pattern (a static gradient
and coloured blocks; in the "moving" scene a few bars cross the screen at 60 updates/s, in the "static" scene
nothing changes). Each scene is recorded full screen for ``--seconds`` by

  * ours:   ``tray.capture.recorder.Recorder`` in a child process (mss XShm -> PyAV libvpx-vp9 -> WebM),
  * ffmpeg: ``ffmpeg -f x11grab -framerate FPS ... -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1
             -lag-in-frames 0 -b:v BITRATE -g 5*FPS -pix_fmt yuv420p -fps_mode passthrough`` (WebM, 1 s clusters),

one after the other (never concurrently), with the same fps and bitrate. Reported per run: frames in the file,
delivered fps, CPU seconds (user+sys of the whole child process from the kernel's rusage, start-up included),
peak RSS, file bitrate. Ratios are ours / ffmpeg:

  delivered fps ratio (moving)  -- ours counts every deadline whose picture is in the file (encoded, or identical
                                   to the frame before and therefore not re-encoded); ffmpeg encodes every frame
  CPU ratio (moving, static), and CPU per delivered frame (the fair one when the machine cannot keep up)
  bitrate ratio (static)

Usage: python benchmarks/recording.py [--seconds 10] [--fps 30] [--bitrate 2500000] [--sizes 1920x1080,1280x720]
                                      [--json out.json]
Needs Xvfb, ffmpeg, ffprobe, python3-tk. Timings depend on the machine and its load; this is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PATTERN = r"""
import sys, tkinter as tk
w, h, moving = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "moving"
root = tk.Tk(); root.overrideredirect(True); root.geometry(f"{w}x{h}+0+0")
c = tk.Canvas(root, width=w, height=h, bg="#202830", highlightthickness=0, bd=0); c.place(x=0, y=0)
for i in range(0, w, 64):
    shade = "#%02x%02x%02x" % (40 + i * 200 // w, 60, 200 - i * 150 // w)
    c.create_rectangle(i, 0, i + 63, h // 3, fill=shade, outline=shade)
for j in range(12):
    c.create_text(40, h // 3 + 30 + j * 28, anchor="w", fill="#e0e0e0", font=("Helvetica", 16),
                  text="The quick brown fox jumps over the lazy dog %d" % j)
bars = [c.create_rectangle(0, h // 2 + k * 60, 80, h // 2 + k * 60 + 50, fill=col, outline=col)
        for k, col in enumerate(["#ffcc00", "#00ccff", "#ff3366", "#66ff66"])]
clock = c.create_text(w - 300, 40, anchor="w", fill="#ffffff", font=("Courier", 24), text="")
n = [0]
def step():
    n[0] += 1
    for k, b in enumerate(bars):
        x = (n[0] * (5 + 3 * k)) % (w - 80)
        c.coords(b, x, h // 2 + k * 60, x + 80, h // 2 + k * 60 + 50)
    c.itemconfigure(clock, text="frame %06d" % n[0])
    root.after(16, step)
def ready():
    print("ready", flush=True)
    if moving:
        step()
root.after(300, ready)
root.mainloop()
"""

OURS = r"""
import json, sys, time
from tray.capture.recorder import Recorder
from tray_platform.base import Region
out, w, h, fps, bitrate, seconds = sys.argv[1], *map(int, sys.argv[2:6]), float(sys.argv[6])
rec = Recorder(out, region=Region(0, 0, w, h), fps=fps, bitrate=bitrate, max_duration=seconds, cursor=False)
cpu0, t0 = time.process_time(), time.monotonic()
rec.start()
assert rec.wait(seconds * 6 + 30), "recorder did not finish"
r = rec.result
s = r.stats
print(json.dumps({"frames": r.frames, "duration": r.duration, "bytes": r.total_bytes,
                  "recording_cpu": time.process_time() - cpu0, "wall": time.monotonic() - t0,
                  "ticks": s.ticks, "late_ticks": s.late_ticks, "dropped": s.frames_dropped,
                  "skipped_identical": s.frames_skipped_identical, "keepalive": s.frames_keepalive,
                  "encoded": s.frames_encoded, "error": r.error}))
"""


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen, str]:
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten",
                             "tcp", "-noreset"], pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        line = f.readline()  # Xvfb writes the display number and a newline when ready
    if not line.strip():
        proc.kill()
        raise RuntimeError("Xvfb failed to start")
    return proc, f":{line.strip()}"


def start_pattern(display: str, width: int, height: int, scene: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", PATTERN, str(width), str(height), scene],
                            env={**os.environ, "DISPLAY": display}, stdout=subprocess.PIPE, text=True)
    got: list[str] = []
    t = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(20)
    if not got or got[0].strip() != "ready":
        proc.kill()
        raise RuntimeError("pattern window did not start")
    time.sleep(0.5)
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def run_child(cmd: list[str], env: dict, timeout: float) -> tuple[int, str, str, float, float, int]:
    """Run ``cmd``; return (rc, stdout, stderr, cpu seconds (user+sys), wall seconds, peak RSS bytes)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: dict[str, str] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: out.__setitem__(n, s.read()), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, ru = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join(10)
    return proc.returncode, out.get("out", ""), out.get("err", ""), ru.ru_utime + ru.ru_stime, wall, \
        ru.ru_maxrss * 1024


def probe(path: Path) -> tuple[int, float]:
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-of", "json",
                        "-show_entries", "stream=nb_read_frames:format=duration", str(path)],
                       capture_output=True, text=True, timeout=120)
    data = json.loads(r.stdout)
    return int(data["streams"][0]["nb_read_frames"]), float(data["format"]["duration"])


def run_ours(display: str, w: int, h: int, args, out: Path) -> dict:
    env = {**os.environ, "DISPLAY": display}
    rc, so, se, cpu, wall, rss = run_child([sys.executable, "-c", OURS, str(out), str(w), str(h), str(args.fps),
                                            str(args.bitrate), str(args.seconds)], env, args.seconds * 6 + 60)
    if rc != 0:
        raise RuntimeError(f"recorder failed: {se[-2000:]}")
    info = json.loads(so.strip().splitlines()[-1])
    frames, duration = probe(out)
    delivered = info["ticks"] - info["dropped"]  # deadlines whose picture is in the file
    return {"tool": "ours", "frames": frames, "duration": duration, "delivered_fps": delivered / duration,
            "encoded_fps": frames / duration, "cpu": cpu, "recording_cpu": info["recording_cpu"], "wall": wall,
            "rss_mib": rss / 2**20, "bytes": out.stat().st_size, "kbps": out.stat().st_size * 8 / duration / 1000,
            "detail": info}


def run_ffmpeg(display: str, w: int, h: int, args, out: Path) -> dict:
    cmd = ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "0",
           "-framerate", str(args.fps), "-video_size", f"{w}x{h}", "-i", f"{display}+0,0", "-t", str(args.seconds),
           "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-lag-in-frames", "0",
           "-b:v", str(args.bitrate), "-g", str(5 * args.fps), "-pix_fmt", "yuv420p", "-fps_mode", "passthrough",
           "-f", "webm", "-cluster_time_limit", "1000", "-cluster_size_limit", "4000000", str(out)]
    rc, so, se, cpu, wall, rss = run_child(cmd, {**os.environ}, args.seconds * 6 + 60)
    if rc != 0:
        raise RuntimeError(f"ffmpeg failed: {se[-2000:]}")
    frames, duration = probe(out)
    return {"tool": "ffmpeg", "frames": frames, "duration": duration, "delivered_fps": frames / duration,
            "encoded_fps": frames / duration, "cpu": cpu, "recording_cpu": cpu, "wall": wall,
            "rss_mib": rss / 2**20, "bytes": out.stat().st_size, "kbps": out.stat().st_size * 8 / duration / 1000}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--bitrate", type=int, default=2_500_000)
    ap.add_argument("--sizes", default="1920x1080,1280x720")
    ap.add_argument("--scenes", default="moving,static")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per scene, alternating which tool goes first; medians are reported")
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    results = []
    with tempfile.TemporaryDirectory(prefix="snaplark-bench-") as tmp:
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            xvfb, display = start_xvfb(w, h)
            try:
                for scene in args.scenes.split(","):
                    pattern = start_pattern(display, w, h, scene)
                    rows = []
                    try:
                        for k in range(args.repeat):
                            base = Path(tmp) / f"{size}-{scene}-{k}"
                            jobs = [("ours", run_ours), ("ffmpeg", run_ffmpeg)]
                            if k % 2:
                                jobs.reverse()
                            got = {name: fn(display, w, h, args, Path(f"{base}-{name}.webm")) for name, fn in jobs}
                            rows.append(got)
                    finally:
                        stop(pattern)
                    for got in rows:
                        ours, ff = got["ours"], got["ffmpeg"]
                        row = {"size": size, "scene": scene, "ours": ours, "ffmpeg": ff,
                               "fps_ratio": ours["delivered_fps"] / ff["delivered_fps"],
                               "cpu_ratio": ours["cpu"] / ff["cpu"],
                               "recording_cpu_ratio": ours["recording_cpu"] / ff["cpu"],
                               "bitrate_ratio": ours["kbps"] / ff["kbps"],
                               # when the machine cannot keep up, CPU per delivered frame is the fair comparison
                               "cpu_per_frame_ratio": (ours["cpu"] / (ours["delivered_fps"] * ours["duration"]))
                               / (ff["cpu"] / (ff["delivered_fps"] * ff["duration"]))}
                        results.append(row)
                        print(f"{size} {scene:6}  fps {ours['delivered_fps']:5.1f} vs {ff['delivered_fps']:5.1f} "
                              f"(x{row['fps_ratio']:.3f})  cpu {ours['cpu']:5.2f}s vs {ff['cpu']:5.2f}s "
                              f"(x{row['cpu_ratio']:.2f}; recording only x{row['recording_cpu_ratio']:.2f}; "
                              f"per frame x{row['cpu_per_frame_ratio']:.2f})  "
                              f"bitrate {ours['kbps']:7.1f} vs {ff['kbps']:7.1f} kbit/s "
                              f"(x{row['bitrate_ratio']:.3f})  rss {ours['rss_mib']:.0f} vs {ff['rss_mib']:.0f} MiB"
                              f"  [ours: {ours['detail']['encoded']} encoded, "
                              f"{ours['detail']['skipped_identical']} unchanged, {ours['detail']['dropped']} "
                              f"dropped, {ours['detail']['late_ticks']} late]", flush=True)
                    if args.repeat > 1:
                        mine = [r for r in results if r["size"] == size and r["scene"] == scene]
                        med = {k: statistics.median(r[k] for r in mine)
                               for k in ("fps_ratio", "cpu_ratio", "recording_cpu_ratio", "bitrate_ratio",
                                         "cpu_per_frame_ratio")}
                        print(f"{size} {scene:6}  MEDIAN of {len(mine)}: fps x{med['fps_ratio']:.3f}  "
                              f"cpu x{med['cpu_ratio']:.2f} (recording only x{med['recording_cpu_ratio']:.2f}, "
                              f"per frame x{med['cpu_per_frame_ratio']:.2f})  "
                              f"bitrate x{med['bitrate_ratio']:.3f}", flush=True)
            finally:
                stop(xvfb)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
