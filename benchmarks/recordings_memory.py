"""Memory over several recordings in one long-lived process (the tray app records many times without exiting).

    python benchmarks/recordings_memory.py                              # 4 x 20 s at 1920x1080, VP9 (~5 min)
    python benchmarks/recordings_memory.py --recordings 5 --seconds 30 --size 1280x720 --format mp4

Real pieces, as the tray app wires them (``tray/ui/recording_flow.py``): one process holds ONE upload engine
(``UploadEngine`` + ``UploadJournal``, as the app's stack does for its whole life) and records ``--recordings``
times back to back, each through a new ``tray.recording.RecordingSession`` (Recorder: X11 capture -> PyAV
libvpx-vp9 -> WebM, 30 fps, 2.5 Mbit/s, streamed into the engine) until the link arrives; ``--gap`` s between
them. Private Xvfb with the moving pattern of benchmarks/_pattern_scene.py, the reference server in its own
process (benchmarks/stop_to_link.py's ServerProcess, local storage, loopback).

Peer, in the same run: each recording in a FRESH process (the same child code with ``--recordings 1``), i.e. what
recording k would cost if nothing of recordings 1..k-1 were left.

Per recording the child prints: peak RSS while it ran (VmHWM, reset through ``/proc/self/clear_refs`` = 5 right
before ``start()``, so it is exact, not sampled), RSS when the link arrived and ``--settle`` s later (between
recordings: what an idle tray keeps), the anonymous part of it (RssAnon), and how much of libvpx's zero-filled
token buffer was given back at encoder open (``WebmVp9Writer.zero_pages_released``; 1080p: 96.1 MiB). Printed
at the end: per recording k, one-process vs fresh-process peak and after figures and their differences.

``--before DIR`` runs the one-process child a second time on the code of another checkout (``git worktree add DIR
<commit>``): before/after in the same run.

Measured 2026-12-07, 1920x1080 VP9, 5 x 20 s, gap 3 s, 2 shared cores at load 1.0-4.9, MiB peak / RSS 2 s after
the link / after the idle trim, per recording 1..5:
  one process, 09beffa:  246/73/73, 235/89/88, 250/79/79, 238/94/94, 255/79/79   (#5 - #1: +9 / +6 / +6)
  one process, 8abc81e:  238/162/162, 324/240/240, 399/324/310, 415/327/258, 421/329/317   (+183 / +167 / +155)
  fresh process each:    224/73/73, 230/87/87, 238/84/84, 238/88/88, 229/76/76
The token buffer was given back in every recording of both (96.1 MiB; the encoder opens on a new thread each time,
so the buffer is a new mapping). What stayed before: each writer, held in reference cycles with its recorder until
a full GC, kept libvpx's encoder (~90-100 MiB resident) alive, so later recordings added their encoder on top and
the idle trim could not give it back. 09beffa drops the codecs at close and trims when the encoder thread ends.
8 x 10 s in one process (09beffa, load 1.2-2.8): after 73.2, 88.4, 73.7, 88.8, 73.8, 89.0, 74.4, 89.3 -- flat, it
alternates by ~15 MiB (so do fresh processes: 73-88), peak 235-258.
MP4 (libx264) 3 x 15 s at load 2.3-2.5: after 72.5 / 72.7 / 91.1 vs before 116.9 / 171.4 / 121.9 (a GC ran).

A benchmark: the machine and its load decide the numbers (2 shared cores here), never a test; the load average is
printed with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CODE = Path(os.environ.get("SNAPLARK_BENCH_CODE") or REPO)  # a child measuring another checkout (--before)
for path in (str(CODE), str(HERE), str(CODE / "platform"), str(CODE / "server")):
    if path not in sys.path:
        sys.path.insert(0, path)

MIB = 1024 * 1024
FPS, BITRATE = 30, 2_500_000


def status_mib(*keys: str) -> dict[str, float]:
    """Fields of /proc/self/status in MiB (VmRSS, VmHWM, RssAnon, ...)."""
    with open("/proc/self/status") as f:
        got = {k: int(v.split()[0]) / 1024 for k, v in (line.split(":", 1) for line in f) if k in keys}
    return got


def load() -> float:
    return os.getloadavg()[0]


def record_once(engine, work: Path, display: str, size: tuple[int, int], seconds: float, fmt: str, k: int) -> dict:
    """One recording through a RecordingSession into ``engine`` until its link; memory figures of this process."""
    from tray.recording import RecordingSession
    from tray_platform.base import Region
    from tray_platform.linux.capture import X11ScreenCapture
    from tray_platform.linux.display import X11DisplayInfo

    session = RecordingSession(work / f"rec-{k}.{fmt}", uploader=engine, format=fmt, region=Region(0, 0, *size),
                               fps=FPS, bitrate=BITRATE, cursor=False, display_info=X11DisplayInfo(display=display),
                               capture_factory=lambda: X11ScreenCapture(display=display, with_cursor=False))
    session.prepare()
    before = status_mib("VmRSS", "RssAnon")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS now: the peak below is this recording's
    session.start()
    t0 = time.monotonic()
    if session.wait(seconds):
        raise RuntimeError(f"recording {k} ended early: {session.result and session.result.error}")
    load_during = load()
    session.stop(timeout=120)
    url = session.link(600)
    writer = session.recorder._writer  # the benchmark looks inside: how much of the token buffer went back
    at_link = status_mib("VmRSS", "VmHWM", "RssAnon")
    r = session.result
    out = {"k": k, "seconds": time.monotonic() - t0, "frames": r.frames, "dropped": r.stats.frames_dropped,
           "bytes": r.total_bytes, "url": bool(url), "released_mib": getattr(writer, "zero_pages_released", 0) / MIB,
           "rss_before": before["VmRSS"], "anon_before": before["RssAnon"], "peak": at_link["VmHWM"],
           "rss_link": at_link["VmRSS"], "load": load_during}
    del session, writer, r
    return out


def child(a: argparse.Namespace) -> int:
    """Record ``--recordings`` times in this process with one engine; a JSON line per recording on stdout."""
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    token = os.environ.pop("SNAPLARK_BENCH_TOKEN")
    size = tuple(int(v) for v in a.size.split("x"))
    journal = UploadJournal(a.child_work / f"journal-{os.getpid()}.sqlite").open()
    engine = UploadEngine(lambda: ApiClient(a.child_api_url, lambda: token), journal,
                          server_url=a.child_api_url, keep_local_copy=False)
    try:
        for k in range(a.first, a.first + a.recordings):
            out = record_once(engine, a.child_work, a.child_display, size, a.seconds, a.format, k)
            time.sleep(a.settle)
            settled = status_mib("VmRSS", "RssAnon")
            out.update(rss_settled=settled["VmRSS"], settle=a.settle)
            if a.collect:  # diagnosis: what Python reference cycles still hold (changes what comes next)
                import gc

                out["gc_objects"] = gc.collect()
                out["rss_gc"] = status_mib("VmRSS")["VmRSS"]
            from tray_platform.memory import trim_heap

            trim_heap()  # what the tray app does each idle minute (tray/ui/desktop.py _tick)
            idle = status_mib("VmRSS", "RssAnon")
            out.update(rss_idle=idle["VmRSS"], anon_idle=idle["RssAnon"])
            print("RESULT " + json.dumps(out), flush=True)
            time.sleep(max(0.0, a.gap - a.settle))
    finally:
        engine.stop()
        journal.close()
    return 0


def run_child(a: argparse.Namespace, server, display: str, work: Path, recordings: int, first: int,
              code: Path = REPO) -> list[dict]:
    cmd = [sys.executable, __file__, "--recordings", str(recordings), "--seconds", str(a.seconds), "--size", a.size,
           "--format", a.format, "--gap", str(a.gap), "--settle", str(a.settle), "--first", str(first),
           *(["--collect"] if a.collect else []),
           "--child-display", display, "--child-api-url", server.api_url, "--child-work", str(work)]
    env = {**os.environ, "SNAPLARK_BENCH_TOKEN": server.token,  # never on a command line or in a file
           "SNAPLARK_BENCH_CODE": str(code),
           "PYTHONPATH": os.pathsep.join([str(code), str(code / "platform"), str(code / "server")])}
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True,
                          timeout=recordings * (a.seconds + a.gap + 600))
    rows = [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    return rows


def fmt_row(label: str, r: dict) -> str:
    gc_part = f", after gc.collect() {r['rss_gc']:6.1f}" if "rss_gc" in r else ""
    return (f"  {label}, #{r['k']}: peak {r['peak']:6.1f} MiB, at link {r['rss_link']:6.1f}, {r['settle']:g} s later "
            f"{r['rss_settled']:6.1f}{gc_part}, idle (after malloc_trim) {r['rss_idle']:6.1f} (anon "
            f"{r['anon_idle']:5.1f}); before start {r['rss_before']:6.1f}; token buffer released "
            f"{r['released_mib']:5.1f} MiB; {r['frames']} frames ({r['dropped']} dropped); load {r['load']:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recordings", type=int, default=4, help="recordings back to back in one process (default 4)")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each recording")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--format", choices=("webm", "mp4"), default="webm")
    ap.add_argument("--gap", type=float, default=3.0, help="seconds between recordings (idle tray)")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds after the link before 'settled' RSS")
    ap.add_argument("--collect", action="store_true",
                    help="after each recording also gc.collect() and malloc_trim(0), with RSS after each")
    ap.add_argument("--before", type=Path, help="also run the one-process child on this checkout's code (a git "
                    "worktree of an older commit): before/after in the same run")
    ap.add_argument("--no-peer", action="store_true", help="skip the fresh-process-per-recording peer")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--first", type=int, default=1, help=argparse.SUPPRESS)
    for name, typ in (("--child-display", str), ("--child-api-url", str), ("--child-work", Path)):
        ap.add_argument(name, type=typ, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_work:
        return child(a)
    if a.recordings < 1 or a.seconds <= 0:
        ap.error("--recordings must be >= 1 and --seconds > 0")

    from _pattern_scene import PatternScene
    from recording import start_pattern, start_xvfb, stop
    from stop_to_link import ServerProcess

    w, h = (int(v) for v in a.size.split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="snaplark-recordings-memory-"))
    print(f"recordings_memory: {a.recordings} x {a.seconds:g} s, {a.size} {a.format} moving pattern, gap {a.gap:g} s;"
          f" work dir {tmp}; load avg {load():.2f}, {os.cpu_count()} cpus", flush=True)
    xvfb, display = start_xvfb(w, h)
    pattern = server = None
    try:
        pattern, _background = start_pattern(display, PatternScene(w, h, moving=True))
        server = ServerProcess(tmp / "server-data")
        runs: dict[str, list[dict]] = {"one process": run_child(a, server, display, tmp, a.recordings, 1)}
        for r in runs["one process"]:
            print(fmt_row("one process", r), flush=True)
        if a.before:
            runs["one process, --before code"] = run_child(a, server, display, tmp, a.recordings, 1, a.before)
            for r in runs["one process, --before code"]:
                print(fmt_row("one process, --before code", r), flush=True)
        if not a.no_peer:
            runs["fresh process each"] = []
            for k in range(1, a.recordings + 1):
                runs["fresh process each"] += run_child(a, server, display, tmp, 1, k)
                print(fmt_row("fresh process", runs["fresh process each"][-1]), flush=True)
        print(f"per recording, MiB (peak / after = {a.settle:g} s after the link / idle = after the tray's idle "
              f"malloc_trim); load at end {load():.2f}: " + " | ".join(runs), flush=True)
        for k in range(a.recordings):
            print(f"  #{k + 1}: " + " | ".join(
                f"{rows[k]['peak']:6.1f} / {rows[k]['rss_settled']:6.1f} / {rows[k]['rss_idle']:6.1f}"
                for rows in runs.values() if k < len(rows)), flush=True)
        for label, rows in runs.items():
            if len(rows) > 1:
                print(f"  {label}, #{len(rows)} - #1: peak {rows[-1]['peak'] - rows[0]['peak']:+.1f}, after "
                      f"{rows[-1]['rss_settled'] - rows[0]['rss_settled']:+.1f}, idle "
                      f"{rows[-1]['rss_idle'] - rows[0]['rss_idle']:+.1f} MiB", flush=True)
        if a.json:
            a.json.write_text(json.dumps({"args": vars(a), "runs": runs}, indent=2, default=str))
    finally:
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
