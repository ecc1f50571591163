"""Stop -> link: time from the user's stop to the URL, for a short and a long recording; client RSS over a long one.

    python benchmarks/stop_to_link.py --quick        # 20 s and 120 s recordings, 180 s RSS run (~6 min)
    python benchmarks/stop_to_link.py                # 60 s and 600 s recordings, 1800 s RSS run (~45 min)
    python benchmarks/stop_to_link.py --short 60 --long 600 --rss 0 --json out.json   # pick durations; 0 = skip
    python benchmarks/stop_to_link.py --short 60 --long 600 --rss 0 --shaped     # over a 10 Mbit/s, 40 ms link (~15 min)
    python benchmarks/stop_to_link.py --short 20 --long 0 --rss 0 --format mp4   # H.264 + fragmented MP4 (issue 15)

Real pieces, nothing mocked: a private Xvfb (1280x720) shows a test pattern (like tests/e2e/capture/pattern_window.py
--noise, with a bigger random block: a moving bar and a 320x240 block of random pixels that changes on every step,
so the VP9 encoder spends its whole bitrate);
``tray.capture.recorder.Recorder`` (mss -> PyAV libvpx-vp9 -> WebM, fps 30, 2.5 Mbit/s, the defaults; ``--format mp4``:
libx264 -> fragmented MP4, ``capture.format = "mp4"``) streams into
``tray.upload.engine.UploadEngine.start_recording_upload`` (journal: ``UploadJournal`` in a temp dir) through the
recorder's sink, exactly as ``snaplark record`` wires them. The reference server runs in a child process
(``snaplark-server --data-dir D serve --port P``, local storage, loopback) so its memory is not in the client's RSS.

Per recording:
  ours  = from ``recorder.request_stop()`` to ``RecordingUpload.wait()`` returning the URL (encoder flush, muxer
          close, part 0 + tail, finalize). Parts 1..n-1 went up while recording (DESIGN.md).
  peer  = the naive way, measured in the same run on the same finished file and server: after stop, upload the
          whole file with raw ``requests`` in 5 MiB parts (init -> chunk x N -> finalize, one Session, no sha256).
          Its stop->link = the recorder's own stop->file-closed time from our run + the raw upload time.
Printed: stop->link ours and peer for each length, ours/peer per length, and the length ratio long/short (goal:
ours <= 1.5 s, long/short <= 1.2 for ours, i.e. independent of length). Per recording also where ours spends its
stop->link (measured here, not in product code: the sink's ``finished()`` call, every chunk/finalize call with its
part index and size): recorder flush + muxer close, a part still on the wire at stop, the tail part, part 0, finalize,
and the gaps between them (part read + sha256, engine wake-ups); and whether the upload kept up while recording
(link busy share, wait from a part's cut to its send, what was left at stop).

Shaped link (``--shaped [--up-mbit 10 --rtt-ms 40]``): every request of ours and of the peer goes through
``benchmarks/shaped_link.py``, a throttling TCP proxy in its own child process between the client and the server:
client->server bytes pass a token bucket at ``--up-mbit`` (one link shared by all connections), RTT/2 is added in
each direction, a new connection costs one RTT before its first byte. Why a proxy and not ``tc`` in a network
namespace: this kernel has no netem (CONFIG_NET_SCH_NETEM is not set; ``tc qdisc add ... netem`` answers "Specified
qdisc kind is unknown"; only tbf/htb are built in), so a namespace could limit the rate but not add the RTT; the proxy
does both without root. Before the runs the benchmark calibrates it: 256 MiB through it unshaped (2-4 Gbit/s on
2 shared cores, i.e. a few hundred times the shaped rate, ~0.3 % of a core at 10 Mbit/s: the proxy is not the
bottleneck) and 5 MiB through it shaped (the rate and the RTT it really gives); after the runs it prints the
proxy's CPU seconds. Physics: at 10 Mbit/s a 5 MiB part is 4.19 s on the wire. Against a server that needs 5 MiB
parts (the seed's S3 rule; our server on S3), ours sends part 0 (>= 5 MiB, rewritten by the muxer at close) plus the
tail (0..5 MiB) after stop: >= ~4.2 s and up to ~8.5 s whatever the length (measured before streaming parts, 60 s /
600 s: 7.1 / 7.9 s). Our server states ``minPartSize`` (64 KiB, local storage) in the init answer, so the engine
sends each ~1 s flush as a part while recording and only the last flush(es) and a 64 KiB part 0 are left at stop.
Measured 2026-12-06 (60 s / 600 s, 2 shared cores, load 1.3..5): ours 0.44 / 0.82 s (tail 0.24 / 0.29 s, one queued
part 0.32 s in the long run, part 0 0.09 s, finalize 0.09 s); peer 15.7 / 157 s (the whole file; 2.5 Mbit/s of
recording = 1/4 of the link).
MP4 (``--format mp4``, 2026-12-06, loopback, 20 s, load ~1.7): ours 0.049 s (19 of 21 parts acked before stop; the
fragmented MP4 muxer rewrites nothing at close, so part 0 is final as soon as it is cut) vs peer 0.183 s (ratio
0.27); WebM in the same conditions: ours 0.108 s vs peer 0.132 s. On loopback the peer's whole-file upload of
~6 MiB is itself only ~0.1-0.2 s: the ratio matters on a real link (see the shaped figures above).

RSS run: the same pipeline recording for ``--rss`` seconds in a fresh child process of this script (it holds only
recorder + engine; the server is elsewhere), which samples its own RSS every ``--rss-interval`` s with psutil from
just after ``recorder.start()`` until the URL arrives. Printed: min / max / first-minute mean / last-minute mean
(goal: <= 200 MiB and flat).

The machine and its load decide the numbers (2 shared cores here): this is a benchmark, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MIB = 1024 * 1024
WIDTH, HEIGHT, FPS, BITRATE = 1280, 720, 30, 2_500_000
PART = 5 * MIB

# The scene: pattern_window.py's 64x64 noise square only makes ~1.3 Mbit/s, so a 10-min file would be half the size
# (and half the parts) of a real busy screen at the default 2.5 Mbit/s. Same idea, a bigger noise block (random
# pixels, new on every step, loaded as PPM so drawing stays cheap) plus a moving bar on a static gradient.
PATTERN = r"""
import os, sys, tkinter as tk
w, h, nw, nh = map(int, sys.argv[1:5])
root = tk.Tk(); root.overrideredirect(True); root.geometry(f"{w}x{h}+0+0")
c = tk.Canvas(root, width=w, height=h, bg="#000000", highlightthickness=0, bd=0); c.place(x=0, y=0)
for i in range(0, w, 32):
    col = "#%02x%02x%02x" % (i * 255 // w, 80, 255 - i * 255 // w)
    c.create_rectangle(i, 0, i + 31, h // 4, fill=col, outline=col)
bar = c.create_rectangle(0, h // 2, 39, h // 2 + 99, fill="#ffff00", outline="#ffff00")
noise = tk.PhotoImage(width=nw, height=nh)
c.create_image(w - nw - 40, h - nh - 40, image=noise, anchor="nw")
header = b"P6 %d %d 255\n" % (nw, nh)
pos = [0]
def step():
    pos[0] = (pos[0] + 7) % (w - 40)
    c.coords(bar, pos[0], h // 2, pos[0] + 39, h // 2 + 99)
    noise.configure(data=header + os.urandom(nw * nh * 3), format="ppm")
    root.after(33, step)
def ready():
    print("ready", flush=True)
    step()
root.after(300, ready)
root.mainloop()
"""
NOISE = (320, 240)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``snaplark-server`` in a child process on a free loopback port."""

    def __init__(self, data_dir: Path):
        from snaplark_server.users import ensure_local_user

        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.token = ensure_local_user(data_dir, "bench")
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api/v1"
        from tests.e2e.capture.conftest import _die_with_parent

        self.log = open(data_dir.parent / "server.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "snaplark_server", "--data-dir", str(data_dir), "serve", "--port",
             str(self.port)], stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        import requests

        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not come up (see {data_dir.parent / 'server.log'})")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


class RssSampler:
    def __init__(self, interval: float):
        import psutil

        self._proc = psutil.Process()
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MiB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> "RssSampler":
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic() - self._t0, self._proc.memory_info().rss / MIB))
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def record_and_upload(work: Path, server: ServerProcess, display, seconds: float, name: str,
                      rss_interval: float | None = None, fmt: str = "webm",
                      size: tuple[int, int] = (WIDTH, HEIGHT)) -> dict:
    """One recording of ``seconds`` (``size``, from the top-left corner) streamed into the engine; returns timings
    (and RSS samples if asked)."""
    from tray.api.client import ApiClient
    from tray.capture.recorder import Recorder
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal
    from tray_platform.base import Region
    from tray_platform.linux.capture import X11ScreenCapture
    from tray_platform.linux.display import X11DisplayInfo

    # (call, start, end, part index, bytes) in perf_counter time, from every worker
    calls: list[tuple[str, float, float, int, int]] = []
    durable: list[tuple[float, int]] = []  # (perf_counter, bytes) of every durable() notice the recorder gave
    finished_at: list[float] = []

    def timed(what: str, index: int, nbytes: int, call, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            calls.append((what, t0, time.perf_counter(), index, nbytes))

    class TimedClient(ApiClient):
        """The real client; each chunk/finalize call is timed (for the breakdown after stop)."""

        def video_chunk(self, session_id, index, data, *args, **kwargs):
            return timed("chunk", index, len(data), super().video_chunk, session_id, index, data, *args, **kwargs)

        def video_finalize(self, *args, **kwargs):
            return timed("finalize", -1, 0, super().video_finalize, *args, **kwargs)

    class TimedSink:
        """The engine's sink as the recorder sees it; notes when each notice came."""

        def __init__(self, sink):
            self.sink = sink

        def durable(self, nbytes: int) -> None:
            durable.append((time.perf_counter(), nbytes))
            self.sink.durable(nbytes)

        def finished(self, total_bytes: int, duration: float, metadata: dict) -> None:
            finished_at.append(time.perf_counter())
            self.sink.finished(total_bytes, duration, metadata)

        def failed(self, reason: str) -> None:
            self.sink.failed(reason)

    path = work / f"{name}.{fmt}"
    journal = UploadJournal(work / f"{name}-journal.sqlite").open()
    engine = UploadEngine(lambda: TimedClient(server.api_url, lambda: server.token), journal,
                          server_url=server.api_url, keep_local_copy=True)
    uploads = []

    def sink_factory(p: Path, metadata: dict):
        uploads.append(engine.start_recording_upload(p, metadata))
        return TimedSink(uploads[-1])

    recorder = Recorder(path, format=fmt, region=Region(0, 0, *size), fps=FPS, bitrate=BITRATE, cursor=False,
                        sink_factory=sink_factory, display_info=X11DisplayInfo(display=display),
                        capture_factory=lambda: X11ScreenCapture(display=display, with_cursor=False))
    sampler = None
    try:
        recorder.start()
        sampler = RssSampler(rss_interval).start() if rss_interval else None
        t_start = time.monotonic()
        t_rec0 = time.perf_counter()
        while time.monotonic() - t_start < seconds:
            if recorder.wait(min(1.0, max(0.0, seconds - (time.monotonic() - t_start)))):
                raise RuntimeError(f"recording ended early: {recorder.result and recorder.result.error}")
        upload = uploads[0]
        before = upload.progress()
        t_stop = time.perf_counter()
        recorder.request_stop()
        if not recorder.wait(120):
            raise RuntimeError("recorder did not stop within 120 s")
        t_closed = time.perf_counter()
        url = upload.wait(600)
        t_link = time.perf_counter()
    finally:
        if sampler:
            sampler.stop()
        engine.stop()
        journal.close()
    result = recorder.result
    after = upload.progress()
    s = result.stats
    out = {
        "name": name, "seconds": seconds, "url": url, "bytes": result.total_bytes, "duration": result.duration,
        "frames": result.frames, "frames_dropped": s.frames_dropped, "late_ticks": s.late_ticks,
        "skipped_identical": s.frames_skipped_identical,
        "file_mbit_s": result.total_bytes * 8 / 1e6 / max(result.duration, 1e-9),
        "parts_total": after.parts_uploaded, "parts_acked_at_stop": before.parts_uploaded,
        "bytes_acked_at_stop": before.bytes_sent,
        "stop_to_closed_s": t_closed - t_stop, "stop_to_link_s": t_link - t_stop,
        "after_stop_chunks": sum(1 for c, t0, *_ in calls if c == "chunk" and t0 >= t_stop),
        "after_stop_chunk_s": sum(t1 - t0 for c, t0, t1, *_ in calls if c == "chunk" and t0 >= t_stop),
        "finalize_s": sum(t1 - t0 for c, t0, t1, *_ in calls if c == "finalize"),
        "path": str(path),
    }
    out.update(analyse(calls, durable, finished_at[0] if finished_at else t_closed, t_rec0, t_stop, t_link))
    if sampler:
        out["rss_samples"] = sampler.samples
    return out


def analyse(calls: list, durable: list, t_finished: float, t_rec0: float, t_stop: float, t_link: float) -> dict:
    """Where ours spent stop->link, and whether the upload kept up while recording (times relative to the stop)."""
    chunks = sorted((c for c in calls if c[0] == "chunk"), key=lambda c: c[1])
    last_index = max((c[3] for c in chunks), default=0)
    events = [("close", 0.0, t_finished - t_stop, None, 0)]  # (what, start, end, index, bytes)
    for what, t0, t1, idx, n in sorted(calls, key=lambda c: c[1]):
        if t1 <= t_stop:
            continue
        if what == "finalize":
            kind = "finalize"
        elif t0 < t_stop:
            kind = "in_flight"
        elif idx == 0:
            kind = "part0"
        elif idx == last_index:
            kind = "tail"
        else:
            kind = "backlog"
        events.append((kind, t0 - t_stop, t1 - t_stop, idx, n))
    # critical path: walk the events in start order; each one is charged only for the time past the previous ones
    charged = {k: 0.0 for k in ("close", "in_flight", "backlog", "tail", "part0", "finalize", "gaps")}
    cursor = 0.0
    for kind, start, end, _, _ in sorted(events, key=lambda e: (max(e[1], 0.0), e[2])):
        start = max(start, 0.0)
        if start > cursor:
            charged["gaps"] += start - cursor
            cursor = start
        if end > cursor:
            charged[kind] += end - cursor
            cursor = end
    charged["gaps"] += (t_link - t_stop) - cursor  # finalize answered -> wait() returned
    # while recording: parts >= 1 sent before the stop, their wait from cut (durable crossed their end) to send
    sent_before = [c for c in chunks if c[1] < t_stop and c[3] >= 1]
    # part boundaries from what was sent (5 MiB parts for a seed-style server, ~1 s parts when ours streams them)
    sizes = {idx: n for _, _, _, idx, n in chunks}
    ends, offset = {}, 0
    for idx in range(last_index + 1):
        offset += sizes.get(idx, 0)
        ends[idx] = offset
    waits = []
    for _, t0, _, idx, _ in sent_before:
        cut = next((t for t, n in durable if n >= ends[idx]), None)
        if cut is not None:
            waits.append(t0 - cut)
    busy = sum(min(t1, t_stop) - t0 for _, t0, t1, _, _ in sent_before)
    rate = [n * 8 / 1e6 / (t1 - t0) for _, t0, t1, _, n in chunks if t1 > t0 and n >= 64 * 1024]
    durable_at_stop = max((n for t, n in durable if t <= t_stop), default=0)
    started = {c[3] for c in chunks if c[1] < t_stop}
    cut_unsent = [k for k in range(1, last_index) if k not in started and ends[k] <= durable_at_stop]
    cut_end = max((ends[k] for k in started if k >= 1), default=sizes.get(0, 0))
    return {
        "timeline": [{"what": k, "start_s": s, "end_s": e, "index": i, "bytes": n} for k, s, e, i, n in events],
        "charged_s": charged,
        "recording": {"parts_sent": len(sent_before), "busy_s": busy, "span_s": t_stop - t_rec0,
                      "busy_share": busy / max(t_stop - t_rec0, 1e-9), "wait_max_s": max(waits, default=0.0),
                      "wait_mean_s": statistics.fmean(waits) if waits else 0.0,
                      "part_mbit_s_median": statistics.median(rate) if rate else 0.0,
                      "durable_at_stop": durable_at_stop, "cut_unsent_at_stop": cut_unsent,
                      "uncut_at_stop": max(durable_at_stop - cut_end, 0), "parts_total": last_index + 1},
    }


def fmt_breakdown(r: dict) -> list[str]:
    parts = []
    for e in r["timeline"]:
        mib = e["bytes"] / MIB
        dur = e["end_s"] - e["start_s"]
        mbit = f", {e['bytes'] * 8 / 1e6 / dur:.2f} Mbit/s" if e["bytes"] and dur > 0 else ""
        label = {"close": "recorder flush+close (sink.finished)", "in_flight": f"part {e['index']} in flight at stop",
                 "backlog": f"queued part {e['index']}", "tail": f"tail part {e['index']}",
                 "part0": "part 0", "finalize": "finalize"}[e["what"]]
        size = f" {mib:.2f} MiB" if e["bytes"] else ""
        parts.append(f"{label}{size} {e['start_s']:+.3f}..{e['end_s']:+.3f} s{mbit}")
    c = r["charged_s"]
    names = (("close", "close"), ("in_flight", "in-flight part"), ("backlog", "queued parts"), ("tail", "tail"),
             ("part0", "part 0"), ("finalize", "finalize"), ("gaps", "gaps (read+sha256, wake-ups)"))
    total = sum(c.values())
    rec = r["recording"]
    return [
        "  after stop (ours): " + "; ".join(parts) + f"; link {r['stop_to_link_s']:+.3f} s",
        "  stop->link ours = " + " + ".join(f"{label} {c[k]:.3f}" for k, label in names if c[k] or k == "part0")
        + f" = {total:.3f} s",
        f"  while recording: {rec['parts_sent']} parts sent, link busy {rec['busy_s']:.1f} s of {rec['span_s']:.1f} s "
        f"({100 * rec['busy_share']:.0f} %), part on the wire median {rec['part_mbit_s_median']:.2f} Mbit/s, cut->send "
        f"wait mean {rec['wait_mean_s']:.3f} s max {rec['wait_max_s']:.3f} s; at stop: {rec['durable_at_stop'] / MIB:.2f}"
        f" MiB durable, cut parts >= 1 not yet started {rec['cut_unsent_at_stop'] or 'none'}, "
        f"{rec['uncut_at_stop'] / MIB:.2f} MiB not yet cut (-> tail), part 0 held back",
    ]


def raw_upload(server: ServerProcess, path: Path) -> tuple[float, float]:
    """The naive peer: the whole finished file with raw requests, 5 MiB parts, init -> chunk x N -> finalize.
    Returns (total seconds, finalize seconds)."""
    import requests

    from tray.upload.files import VIDEO_EXTENSIONS

    h = {"Authorization": f"Bearer {server.token}"}
    api = server.api_url
    codec, content_type = VIDEO_EXTENSIONS[path.suffix]
    meta = {"filename": path.name, "timestamp": int(time.time() * 1000), "fps": FPS, "codec": codec,
            "bitrate": BITRATE, "resolution": f"{WIDTH}x{HEIGHT}"}
    with requests.Session() as s:
        t0 = time.perf_counter()
        r = s.post(f"{api}/videos/init", json=meta, headers=h, timeout=30)
        r.raise_for_status()
        sid = r.json()["sessionId"]
        n = 0
        with open(path, "rb") as f:
            while True:
                data = f.read(PART)
                if not data:
                    break
                r = s.post(f"{api}/videos/chunk", headers=h, timeout=120,
                           files={"sessionId": (None, sid), "chunkIndex": (None, str(n)),
                                  "chunk": (f"chunk_{n}{path.suffix}", data, content_type)})
                r.raise_for_status()
                n += 1
        t_fin = time.perf_counter()
        r = s.post(f"{api}/videos/finalize", headers=h, timeout=600,
                   json={"sessionId": sid, "totalChunks": n, "uploadedChunks": list(range(n)), "duration": 0.0,
                         "metadata": {}})
        r.raise_for_status()
        assert r.json().get("url"), r.text
        t_end = time.perf_counter()
        return t_end - t0, t_end - t_fin


def start_scene(display: str) -> subprocess.Popen:
    import threading as _t

    from tests.e2e.capture.conftest import _die_with_parent, _stop

    proc = subprocess.Popen([sys.executable, "-c", PATTERN, str(WIDTH), str(HEIGHT), *map(str, NOISE)],
                            env={**os.environ, "DISPLAY": display}, stdout=subprocess.PIPE, text=True,
                            preexec_fn=_die_with_parent)
    line: list[str] = []
    reader = _t.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(20)
    if not line or line[0].strip() != "ready":
        _stop(proc)
        raise RuntimeError("pattern window did not come up within 20 s")
    time.sleep(0.3)
    return proc


def run_rss_child(tmp: Path, server: ServerProcess, display: str, seconds: float, interval: float,
                  fmt: str) -> dict:
    """The RSS recording in a fresh process holding only recorder + engine (+ requests, psutil): earlier runs'
    heap and the benchmark's own bookkeeping are not counted."""
    out = tmp / "rss-child.json"
    cmd = [sys.executable, __file__, "--child-rss", str(seconds), "--rss-interval", str(interval), "--format", fmt,
           "--child-display", display, "--child-api-url", server.api_url, "--child-work", str(tmp),
           "--child-out", str(out)]
    env = {**os.environ, "SNAPLARK_BENCH_TOKEN": server.token}  # never on a command line or in a file
    subprocess.run(cmd, env=env, check=True, timeout=seconds * 2 + 600)
    return json.loads(out.read_text())


def child_rss(a: argparse.Namespace) -> int:
    server = argparse.Namespace(api_url=a.child_api_url, token=os.environ.pop("SNAPLARK_BENCH_TOKEN"))
    r = record_and_upload(a.child_work, server, a.child_display, a.child_rss, "rss", rss_interval=a.rss_interval,
                          fmt=a.format)
    a.child_out.write_text(json.dumps(r))
    return 0


def fmt_run(r: dict) -> str:
    return (f"{r['name']}: {r['duration']:.1f} s recorded, {r['frames']} frames ({r['frames_dropped']} dropped, "
            f"{r['late_ticks']} late ticks), {r['bytes'] / MIB:.1f} MiB = {r['file_mbit_s']:.2f} Mbit/s, "
            f"{r['parts_total']} parts ({r['parts_acked_at_stop']} acked before stop)")


def rss_summary(samples: list[tuple[float, float]]) -> dict:
    vals = [m for _, m in samples]
    end = samples[-1][0]
    first = [m for t, m in samples if t <= 60.0] or vals[:1]
    last = [m for t, m in samples if t >= end - 60.0] or vals[-1:]
    return {"n": len(vals), "min": min(vals), "max": max(vals), "first_min_mean": statistics.fmean(first),
            "last_min_mean": statistics.fmean(last), "span_s": end}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20 s / 120 s recordings and a 180 s RSS run")
    ap.add_argument("--short", type=float, help="seconds of the short recording (default 60; quick 20)")
    ap.add_argument("--long", type=float, help="seconds of the long recording (default 600; quick 120)")
    ap.add_argument("--rss", type=float, help="seconds of the RSS recording (default 1800; quick 180; 0 = skip)")
    ap.add_argument("--rss-interval", type=float, default=5.0)
    ap.add_argument("--json", type=Path, help="write all figures here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (recordings, server data)")
    ap.add_argument("--shaped", action="store_true",
                    help="client traffic (ours and the peer) through a shaped link (benchmarks/shaped_link.py)")
    ap.add_argument("--up-mbit", type=float, default=10.0, help="shaped link: client->server rate (default 10)")
    ap.add_argument("--rtt-ms", type=float, default=40.0, help="shaped link: round-trip time (default 40)")
    ap.add_argument("--format", choices=("webm", "mp4"), default="webm",
                    help="recording format: webm (VP9, the default) or mp4 (H.264, fragmented)")
    for name, typ in (("--child-rss", float), ("--child-display", str), ("--child-api-url", str),
                      ("--child-work", Path), ("--child-out", Path)):
        ap.add_argument(name, type=typ, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_rss:
        return child_rss(a)
    short = a.short if a.short is not None else (20.0 if a.quick else 60.0)
    long_ = a.long if a.long is not None else (120.0 if a.quick else 600.0)
    rss_s = a.rss if a.rss is not None else (180.0 if a.quick else 1800.0)

    from tests.e2e.capture.conftest import _stop, start_xvfb

    tmp = Path(tempfile.mkdtemp(prefix="snaplark-stop-to-link-"))
    goal = 2.0 if a.shaped else 1.5  # issue 11: <= 2 s on a 10 Mbit/s, 40 ms link; loopback: <= 1.5 s
    link_desc = (f"shaped link {a.up_mbit:g} Mbit/s up, RTT {a.rtt_ms:g} ms (benchmarks/shaped_link.py)" if a.shaped
                 else "loopback")
    print(f"stop_to_link: {a.format} ({'H.264 fragmented MP4' if a.format == 'mp4' else 'VP9 WebM'}), "
          f"{WIDTH}x{HEIGHT} @ {FPS} fps, {BITRATE / 1e6:.1f} Mbit/s, part {PART // MIB} MiB; "
          f"recordings {short:g} s and {long_:g} s, RSS run {rss_s:g} s; {link_desc}; work dir {tmp}; "
          f"load avg {os.getloadavg()[0]:.2f}, {os.cpu_count()} cpus", flush=True)
    results: dict = {"format": a.format, "runs": {}, "peer_s": {}, "shaped": None}
    if a.shaped:
        from benchmarks.shaped_link import calibrate, fmt_calibration

        results["calibration"] = calibrate(a.up_mbit, a.rtt_ms)
        for line in fmt_calibration(results["calibration"]):
            print(line, flush=True)
    xvfb, display = start_xvfb(WIDTH, HEIGHT)
    pattern = server = proxy = None
    try:
        pattern = start_scene(display)
        server = ServerProcess(tmp / "server-data")
        link = server  # what the client (ours and the peer) talks to: api_url + token
        if a.shaped:
            from benchmarks.shaped_link import LinkProcess

            proxy = LinkProcess(("127.0.0.1", server.port), a.up_mbit, a.rtt_ms)
            link = argparse.Namespace(api_url=f"http://127.0.0.1:{proxy.port}/api/v1", token=server.token)
            results["shaped"] = {"up_mbit": a.up_mbit, "rtt_ms": a.rtt_ms}
            floor = PART * 8 / (a.up_mbit * 1e6)
            print(f"  physics: one 5 MiB part = {floor:.2f} s on this link. With 5 MiB parts (a seed or S3 server) "
                  f"ours sends part 0 (>= 5 MiB) + the tail (< 5 MiB) after stop: >= {floor:.2f} s by design. Our "
                  f"server says minPartSize (64 KiB): parts stream ~1 s apart, after stop only the last flush and a "
                  f"64 KiB part 0 are left; goal ours <= {goal:g} s", flush=True)
        for name, secs in (("short", short), ("long", long_)):
            if secs <= 0:
                continue
            r = record_and_upload(tmp, link, display, secs, name, fmt=a.format)
            results["runs"][name] = r
            print(fmt_run(r), flush=True)
            peer_upload, peer_fin = raw_upload(link, Path(r["path"]))
            peer = r["stop_to_closed_s"] + peer_upload
            results["peer_s"][name] = {"upload_s": peer_upload, "finalize_s": peer_fin, "stop_to_link_s": peer}
            print(f"  stop->link ours {r['stop_to_link_s']:.3f} s (recorder stop+close {r['stop_to_closed_s']:.3f}"
                  f" s, {r['after_stop_chunks']} parts sent after stop {r['after_stop_chunk_s']:.3f} s, finalize "
                  f"{r['finalize_s']:.3f} s) | peer (stop+close, then whole-file raw requests upload "
                  f"{peer_upload:.3f} s incl. finalize {peer_fin:.3f} s) {peer:.3f} s | ours/peer "
                  f"{r['stop_to_link_s'] / peer:.3f} | goal ours <= {goal:g} s: "
                  f"{'met' if r['stop_to_link_s'] <= goal else 'NOT met'}", flush=True)
            for line in fmt_breakdown(r):
                print(line, flush=True)
            os.unlink(r["path"])  # disk: the server keeps its copies
        if "short" in results["runs"] and "long" in results["runs"]:
            s, l_ = results["runs"]["short"], results["runs"]["long"]
            ps, pl = results["peer_s"]["short"]["stop_to_link_s"], results["peer_s"]["long"]["stop_to_link_s"]
            ratio = l_["stop_to_link_s"] / s["stop_to_link_s"]
            results["length_ratio_ours"], results["length_ratio_peer"] = ratio, pl / ps
            worst = max(s["stop_to_link_s"], l_["stop_to_link_s"])
            print(f"stop->link {long_:g}s/{short:g}s: ours {l_['stop_to_link_s']:.3f}/{s['stop_to_link_s']:.3f} = "
                  f"{ratio:.2f} (goal <= 1.2: {'met' if ratio <= 1.2 else 'NOT met'}); peer {pl:.3f}/{ps:.3f} = "
                  f"{pl / ps:.2f}; ours worst {worst:.3f} s (goal <= {goal:g} s: "
                  f"{'met' if worst <= goal else 'NOT met'}); ours/peer short {s['stop_to_link_s'] / ps:.3f}, "
                  f"long {l_['stop_to_link_s'] / pl:.3f}", flush=True)
        if rss_s > 0:
            r = run_rss_child(tmp, link, display, rss_s, a.rss_interval, a.format)
            summary = rss_summary(r["rss_samples"])
            results["runs"]["rss"], results["rss"] = r, summary
            print(fmt_run(r), flush=True)
            print(f"  stop->link ours {r['stop_to_link_s']:.3f} s (finalize {r['finalize_s']:.3f} s)", flush=True)
            per_min = {}
            for t, m in r["rss_samples"]:
                per_min.setdefault(int(t // 60), []).append(m)
            print("  RSS per-minute mean (MiB): " + " ".join(f"{statistics.fmean(v):.0f}" for _, v in
                                                             sorted(per_min.items())), flush=True)
            ok = summary["max"] <= 200
            print(f"client RSS over {summary['span_s']:.0f} s, {summary['n']} samples every {a.rss_interval:g} s: "
                  f"min {summary['min']:.1f} MiB, max {summary['max']:.1f} MiB, first-minute mean "
                  f"{summary['first_min_mean']:.1f} MiB, last-minute mean {summary['last_min_mean']:.1f} MiB "
                  f"(last-first {summary['last_min_mean'] - summary['first_min_mean']:+.1f} MiB); goal max <= 200 MiB: "
                  f"{'met' if ok else 'NOT met'}", flush=True)
            os.unlink(r["path"])
        if proxy:
            stats, cpu = proxy.stats(), proxy.cpu_s()
            results["shaped"].update(proxy_stats=stats, proxy_cpu_s=cpu)
            print(f"shaped link proxy: {stats['connections']} connections, {stats['bytes_up'] / MIB:.1f} MiB up, "
                  f"{stats['bytes_down'] / 1024:.0f} KiB down, {cpu:.1f} s CPU in all", flush=True)
        print(f"load avg at end {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        if proxy:
            proxy.stop()
        if server:
            server.stop()
        if pattern:
            _stop(pattern)
        _stop(xvfb)
        if a.json:
            a.json.write_text(json.dumps(results, indent=2, default=str))
        if not a.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
