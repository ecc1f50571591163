"""Long recordings (issue 21 goal 5): the client's RSS over a long 1080p recording streamed to a local server.

    python benchmarks/long_recording.py --minutes 60                  # the goal run (~61 min)
    python benchmarks/long_recording.py --minutes 8 --tracemalloc 60  # where Python memory grows (slower: tracing)
    python benchmarks/long_recording.py --minutes 10 --format mp4     # H.264 (libx264) instead of VP9

Real pieces, as ``snaplark record`` wires them (the pipeline of benchmarks/stop_to_link.py, ``record_and_upload``):
a private Xvfb (``--size``, default 1920x1080) shows the moving pattern of benchmarks/_pattern_scene.py (four bars
crossing the screen, a frame code changing every 16 ms); ``tray.capture.recorder.Recorder`` (X11 capture -> PyAV
libvpx-vp9 -> WebM, 30 fps, 2.5 Mbit/s) streams into ``UploadEngine.start_recording_upload`` (SQLite journal), the
reference server in its own process (local storage, loopback). The recorder + engine run in a child process of
this script holding nothing else; this script samples the child's RSS (psutil, ``--interval`` s) from outside.

Printed: a line per minute while it runs (RSS now, peak so far, the child's CPU), then per 10-minute window the
peak, median and slope (MiB/min, least squares) and the growth from minute 5 (the mean of minute 5..6, after
warm-up) to the end (the mean of the last minute). Goal: peak <= 200 MiB and flat (growth minute 5 -> end
<= 5 MiB, i.e. no leak a longer recording would turn into a limit).

``--tracemalloc S``: the child traces Python allocations (3 frames) and every S s prints the 12 biggest growths
since its first snapshot (taken after S s) by line, to find what grows. Allocations of C libraries (libvpx,
FFmpeg, libpulse) are not traced by it; the RSS figures include them.

Measured 2026-12-06 (session 13), 60 min, 1920x1080 webm, 2 shared cores at load 3-13 (93796 frames, 6812
dropped, 884.7 MiB = 2.06 Mbit/s, 3433 parts, stop->link 0.76 s): peak 336.6 MiB; per 10 min medians 294.7, then
317.7, 318.3, 318.7, 319.2, 319.5 MiB (slopes +0.05..+0.38 MiB/min): +1.8 MiB from minute 10 to the end. mp4
(libx264) at 1080p, 8 min: median 190.8 MiB, peak 201.6 MiB, +0.1 MiB minute 5 -> end.

Measured 2026-12-06 (session 14), 10 min each, two runs side by side at load 6-12: before (e883f74) peak 329.6,
median 314.6 MiB, +0.5 MiB minute 5 -> end (13845 frames, 2875 dropped); with libvpx's zero-filled token buffer
given back at open (``tray_platform.memory.release_zero_pages_mapped_by``: 96.1 MiB at 1080p) peak 237.2, median
229.1 MiB, +2.3 MiB (13591 frames, 3202 dropped). ea3ac8b (+ the 16 MiB frame queue, + damage conversion,
which keeps a BGRA shadow and a frame), alone at load 3-7: peak 282.9, median 261.7 MiB, +2.8 MiB (16686 frames,
558 dropped); 5 min side by side at load 7-8: peak 259.2 MiB, vs 235.2 MiB with ``SNAPLARK_DAMAGE_CONVERT=0``
(whole frames; median 227.9): damage conversion costs ~25 MiB here. Where the rest is (smaps + malloc_info of the child, 1080p): libvpx's encoder ~72 MiB live after
warm-up (its own arena; ~18 MiB of it four frame buffers that vpx_realloc_frame_buffer memsets and a 1:1 realtime
encode never writes), the capture thread's arena 55-63 MiB (an 8 MiB grab per tick + the last one kept for the
identical-frame check + queued 3 MiB frames, and the holes they leave), main heap 13 MiB, libraries 37 MiB
file-backed, X shm 8 MiB, the token buffer's used part ~10 MiB. Tried and not kept: malloc_trim every 5 s (-5..-8
MiB, within noise: the freed holes are refilled by the next grabs within seconds); glibc's mmap threshold fixed at
2 MiB (grabs and frames mmapped, freed to the OS at once: -40 MiB, but 10 ms CPU per grab + frame in page faults,
the capture fell behind: 42 % fewer frames at load 15); MALLOC_ARENA_MAX=2 (no gain seen). ``ffmpeg -f x11grab``
with the same settings peaks at 238 MiB.

A benchmark: the machine and its load decide the numbers (2 shared cores here), never a test.
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

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for path in (str(REPO), str(HERE), str(REPO / "platform"), str(REPO / "server")):
    if path not in sys.path:
        sys.path.insert(0, path)

MIB = 1024 * 1024
GOAL_PEAK_MIB = 200.0
GOAL_GROWTH_MIB = 5.0
WARM_MIN = 5  # the growth is measured from this minute on


def slope_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) in MiB per minute (0 for fewer than two points)."""
    if len(points) < 2:
        return 0.0
    mt = statistics.fmean(t for t, _ in points)
    mv = statistics.fmean(v for _, v in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return 0.0 if den == 0 else sum((t - mt) * (v - mv) for t, v in points) / den * 60


def summarise(samples: list[tuple[float, float]], window_min: int = 10) -> dict:
    """Per-window peak/median/slope and the growth from minute WARM_MIN to the end of (seconds, MiB) samples."""
    end = samples[-1][0]
    windows = []
    for k in range(int(end // (window_min * 60)) + 1):
        pts = [(t, m) for t, m in samples if k * window_min * 60 <= t < (k + 1) * window_min * 60]
        if pts:
            windows.append({"from_min": k * window_min, "to_min": min((k + 1) * window_min, end / 60),
                            "peak": max(m for _, m in pts), "median": statistics.median(m for _, m in pts),
                            "slope_mib_per_min": slope_per_min(pts), "n": len(pts)})
    warm = [m for t, m in samples if WARM_MIN * 60 <= t < (WARM_MIN + 1) * 60]
    last = [m for t, m in samples if t >= end - 60]
    after = [(t, m) for t, m in samples if t >= WARM_MIN * 60]
    return {"span_s": end, "n": len(samples), "peak": max(m for _, m in samples), "windows": windows,
            "warm_mean": statistics.fmean(warm) if warm else None, "last_mean": statistics.fmean(last),
            "growth": statistics.fmean(last) - statistics.fmean(warm) if warm else None,
            "slope_after_warm": slope_per_min(after)}


def print_summary(s: dict) -> None:
    for w in s["windows"]:
        print(f"  minutes {w['from_min']:3.0f}-{w['to_min']:4.1f}: peak {w['peak']:6.1f} MiB, median "
              f"{w['median']:6.1f} MiB, slope {w['slope_mib_per_min']:+.3f} MiB/min ({w['n']} samples)", flush=True)
    peak_ok = s["peak"] <= GOAL_PEAK_MIB
    line = (f"client RSS over {s['span_s'] / 60:.1f} min, {s['n']} samples: peak {s['peak']:.1f} MiB "
            f"(goal <= {GOAL_PEAK_MIB:.0f}: {'met' if peak_ok else 'NOT met'})")
    if s["growth"] is not None:
        flat = s["growth"] <= GOAL_GROWTH_MIB
        line += (f"; minute {WARM_MIN} mean {s['warm_mean']:.1f} -> last-minute mean {s['last_mean']:.1f} MiB = "
                 f"{s['growth']:+.1f} MiB, slope after minute {WARM_MIN} {s['slope_after_warm']:+.3f} MiB/min "
                 f"(flat, growth <= {GOAL_GROWTH_MIB:.0f} MiB: {'met' if flat else 'NOT met'})")
    else:
        line += f"; shorter than {WARM_MIN + 1} min: no growth figure"
    print(line, flush=True)


def tracemalloc_watch(every: float, stop: threading.Event) -> None:
    """In the child: every ``every`` s, the biggest growths of traced Python memory since the first snapshot."""
    import tracemalloc

    first = None
    while not stop.wait(every):
        snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        if first is None:
            first = snap
            print(f"[tracemalloc] first snapshot: {sum(s.size for s in snap.statistics('filename')) / MIB:.1f} MiB "
                  "traced", file=sys.stderr, flush=True)
            continue
        diff = snap.compare_to(first, "lineno")
        total = sum(d.size_diff for d in diff)
        print(f"[tracemalloc] +{total / MIB:.2f} MiB traced since the first snapshot; biggest growths:",
              file=sys.stderr, flush=True)
        for d in diff[:12]:
            print(f"[tracemalloc]   {d.size_diff / 1024:+9.1f} KiB {d.count_diff:+6d} blocks  {d.traceback[0]}",
                  file=sys.stderr, flush=True)


def child(a: argparse.Namespace) -> int:
    from stop_to_link import record_and_upload

    server = argparse.Namespace(api_url=a.child_api_url, token=os.environ.pop("SNAPLARK_BENCH_TOKEN"))
    stop = threading.Event()
    if a.tracemalloc:
        import tracemalloc

        tracemalloc.start(3)
        threading.Thread(target=tracemalloc_watch, args=(a.tracemalloc, stop), daemon=True).start()
    w, h = (int(v) for v in a.size.split("x"))
    try:
        r = record_and_upload(a.child_work, server, a.child_display, a.minutes * 60, "long", size=(w, h),
                              fmt=a.format)
    finally:
        stop.set()
    a.child_out.write_text(json.dumps(r, default=str))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--format", choices=("webm", "mp4"), default="webm",
                    help="webm (libvpx-vp9, the default) or mp4 (libx264, fragmented)")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between RSS samples")
    ap.add_argument("--tracemalloc", type=float, default=0.0, help="child: snapshot every S s (0: off)")
    ap.add_argument("--json", type=Path, help="write the samples and the summary here")
    for name, typ in (("--child-display", str), ("--child-api-url", str), ("--child-work", Path),
                      ("--child-out", Path)):
        ap.add_argument(name, type=typ, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_out:
        return child(a)

    import psutil
    from _pattern_scene import PatternScene
    from recording import start_pattern, start_xvfb, stop
    from stop_to_link import ServerProcess

    w, h = (int(v) for v in a.size.split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="snaplark-long-rec-"))
    print(f"long_recording: {a.size} {a.format} moving pattern, {a.minutes:g} min, RSS every {a.interval:g} s; work dir {tmp}; "
          f"load avg {os.getloadavg()[0]:.2f}, {os.cpu_count()} cpus", flush=True)
    xvfb, display = start_xvfb(w, h)
    pattern = server = proc = None
    samples: list[tuple[float, float]] = []
    summarised = False
    try:
        pattern, _background = start_pattern(display, PatternScene(w, h, moving=True))
        server = ServerProcess(tmp / "server-data")
        out = tmp / "child.json"
        cmd = [sys.executable, __file__, "--minutes", str(a.minutes), "--size", a.size, "--format", a.format,
               "--tracemalloc",
               str(a.tracemalloc), "--child-display", display, "--child-api-url", server.api_url,
               "--child-work", str(tmp), "--child-out", str(out)]
        env = {**os.environ, "SNAPLARK_BENCH_TOKEN": server.token,  # never on a command line or in a file
               "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "platform"), str(REPO / "server")])}
        proc = subprocess.Popen(cmd, env=env)
        ps = psutil.Process(proc.pid)
        t0 = time.monotonic()
        next_line = 60.0
        while proc.poll() is None:
            try:
                rss, cpu = ps.memory_info().rss / MIB, sum(ps.cpu_times()[:2])
            except psutil.Error:
                break
            t = time.monotonic() - t0
            samples.append((t, rss))
            if t >= next_line:
                print(f"  minute {t / 60:5.1f}: RSS {rss:6.1f} MiB, peak {max(m for _, m in samples):6.1f} MiB, "
                      f"child CPU {cpu / t * 100:5.1f} % of a core, load {os.getloadavg()[0]:.2f}", flush=True)
                next_line += 60.0
            time.sleep(a.interval)
        if proc.wait(a.minutes * 60 + 600) != 0:
            raise RuntimeError(f"recording child failed with {proc.returncode}")
        r = json.loads(out.read_text())
        print(f"recorded {r['duration']:.1f} s, {r['frames']} frames ({r['frames_dropped']} dropped, "
              f"{r['late_ticks']} late ticks), {r['bytes'] / MIB:.1f} MiB = {r['file_mbit_s']:.2f} Mbit/s, "
              f"{r['parts_total']} parts ({r['parts_acked_at_stop']} acked before stop), stop->link "
              f"{r['stop_to_link_s']:.2f} s, url {'yes' if r['url'] else 'NO'}", flush=True)
        summary = summarise([(t, m) for t, m in samples if t <= a.minutes * 60])  # not the exit after stop
        print_summary(summary)
        summarised = True
        if a.json:
            a.json.write_text(json.dumps({"samples": samples, "summary": summary, "run": r}, indent=2, default=str))
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        if samples and not summarised:  # the run failed or was interrupted: what was measured until then
            print("INCOMPLETE run, samples until it ended:", flush=True)
            print_summary(summarise(samples))
        if server:
            server.stop()
        if pattern:
            stop(pattern)
        stop(xvfb)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
