"""Screenshot: capture + PNG + upload -> link on the clipboard (issue 21 goal 3: p95 <= 100 ms at 1920x1080 on
loopback), and the lossless encoders behind it, each next to the path before issue 21 in the same run.

    python benchmarks/screenshot_link.py [--rounds 7] [--tries 30] [--only table|link] [--json out.json]

1. Encoder table. Every option encodes the same 1920x1080 desktop-like scene (benchmarks/_desktop_env.py's
   ``desktop_background``: gradient wallpaper, windows of text, a photo-like area) from the BGRA bytes a grab gives,
   conversion included. Rounds interleave the options (each round runs every option once, the order rotating), so
   they share the machine's load; medians of CPU time (process_time: less load-sensitive) and wall time, the size,
   and each output decoded and compared with the scene (``lossless`` yes/NO: a lossy option is never a candidate).
   Options: Pillow's PNG writer (per-row adaptive filter + zlib) at levels 0-3 and 6 and with the other zlib
   strategies; tray.capture.png_fast (one "Up" filter + zlib-ng level 3: what ships) and its neighbours (zlib-ng 1,
   2 and 6, the "Sub" and no filter, the stdlib-zlib fallback); OpenCV's and fpng's PNG writers when those wheels are
   installed; lossless WebP (Pillow/libwebp) at the cheapest efforts.
2. End to end, on a private Xvfb 1920x1080 showing the same scene and an in-process reference server on loopback
   (access log off), each try timed step by step -- grab, png, save, queue (``UploadEngine.upload_screenshot``:
   the journal entry, the worker thread), upload (``.wait()``: the HTTP request, the server, the journal's
   completion), clipboard (the copy posted to a Tk thread, as the tray app's upload waiter does). Paths:
   ``new`` = ``tray.capture.screenshot.grab(0)`` (a fresh capture adapter, as ``snaplark shot``) -> png_fast ->
   file -> upload on the engine's kept client (its keep-alive connection) -> the link owned in-process
   (``InProcessClipboard``, what the tray app uses); ``app`` = the same from the tray app's kept capture adapter
   (``KeptCapture``, open since the previous capture; the monitors read afresh as ``CaptureFlow`` does);
   ``head`` = ``new`` as it was before (the one grab through XShm, as before ``grab_once``; a new client and
   connection per upload: ``idle_clients=0``; ``XclipClipboard``: xclip + its read-back); ``old`` = ``head`` with
   Pillow level 1 (before issue 21). And what the tray app's user waits for after pressing Upload in the annotator with no
   annotation: ``ui-new`` = the PNG the annotator encoded ahead on a worker while it was shown (0.3 s here) ->
   file -> upload -> clipboard as ``new``; ``ui-old`` = Pillow level 3 of the rendered image (the export before)
   -> the rest as ``head``. Interleaved try by try (the order rotating), the clipboard read back by another
   process after every try. Printed: p50/p95 of each, CPU per try, the steps' p50/p95, and that each path's last
   uploaded file decodes to exactly its capture (the expected pixels are computed after the timed steps).

Measured (2026-12-06, 2 cores shared with other benchmarks and busy loops, load average 7.5-15: noisy; ratios
from the same run are what to compare), ``--only link --tries 30``, three runs, p50/p95 ms: new 49.8/114.9,
53.8/143.9, 56.7/123.8; head (the same path before the in-process clipboard, kept connections and grab_once)
76.5/124.3, 90.4/226.3, 91.4/220.3 -- new/head p50 x0.60-0.65, p95 x0.56-0.92, CPU x0.70-0.77; app (kept grab)
41.8/81.7, 47.8/172.6, 54.5/109.4; annotator Upload ui-new 17.9/31.8 .. 23.1/116.3 vs ui-old 121.3/201.2 ..
187.3/291.1. Steps of new, p50 wall (CPU): grab 12 (6), png 16-17 (13-15), save 0.5, queue 2-4 (1.2: the journal
entry's fsync), upload 13-20 (9: client ~3, in-process server ~6, four fsyncs), clipboard 0.8-1.1 (0.4; head's
xclip + read-back 16-18 (12)).

Timing only here, never in tests. Needs Xvfb, xclip, ImageMagick's ``display``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for path in (str(REPO), str(REPO / "platform"), str(REPO / "server"), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import _desktop_env as denv  # noqa: E402
from hotkey_latency import pct, read_clipboard, summary, verdict  # noqa: E402

WIDTH, HEIGHT = 1920, 1080
GOAL_P95_MS = 100.0


# ============================================================================ 1. encoder table
def png_variant(filter_kind: str, module, level: int) -> Callable[[bytes], bytes]:
    """png_fast's file layout with another filter or deflater (for the table only)."""
    import numpy as np

    from tray.capture import png_fast

    def encode(bgra: bytes) -> bytes:
        if filter_kind == "up":
            rows = png_fast.filtered_rows(WIDTH, HEIGHT, bgra, "BGRA")
        else:
            src = np.frombuffer(bgra, np.uint8).reshape(HEIGHT, WIDTH, 4)
            rgb = np.empty((HEIGHT, WIDTH, 3), np.uint8)
            rgb[..., 0], rgb[..., 1], rgb[..., 2] = src[..., 2], src[..., 1], src[..., 0]
            rgb = rgb.reshape(HEIGHT, WIDTH * 3)
            rows = np.empty((HEIGHT, 1 + WIDTH * 3), np.uint8)
            if filter_kind == "none":
                rows[:, 0], rows[:, 1:] = 0, rgb
            else:  # sub: each byte minus the one 3 to its left
                rows[:, 0], rows[:, 1:4] = 1, rgb[:, :3]
                np.subtract(rgb[:, 3:], rgb[:, :-3], out=rows[:, 4:])
        idat = module.compress(memoryview(rows).cast("B"), level)
        header = png_fast.struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
        return (png_fast.PNG_SIGNATURE + png_fast._chunk(b"IHDR", header) + png_fast._chunk(b"IDAT", idat)
                + png_fast._chunk(b"IEND", b""))

    return encode


def pillow(fmt: str, **options) -> Callable[[bytes], bytes]:
    from PIL import Image

    def encode(bgra: bytes) -> bytes:
        out = io.BytesIO()
        Image.frombuffer("RGB", (WIDTH, HEIGHT), bgra, "raw", "BGRX", 0, 1).save(out, format=fmt, **options)
        return out.getvalue()

    return encode


def encoder_options() -> list[tuple[str, Callable[[bytes], bytes]]]:
    from tray.capture.png_fast import encode_png

    opts: list[tuple[str, Callable[[bytes], bytes]]] = [
        ("OLD  Pillow PNG level 1 (before issue 21)", pillow("PNG", compress_level=1)),
        ("NEW  png_fast: Up + zlib-ng 3 (ships)", lambda bgra: encode_png(WIDTH, HEIGHT, bgra)),
    ]
    opts += [(f"Pillow PNG level {lvl}", pillow("PNG", compress_level=lvl)) for lvl in (0, 2, 3, 6)]
    opts += [(f"Pillow PNG level 1, zlib strategy {name}", pillow("PNG", compress_level=1, compress_type=value))
             for name, value in (("FILTERED", zlib.Z_FILTERED), ("RLE", zlib.Z_RLE), ("FIXED", zlib.Z_FIXED),
                                 ("HUFFMAN_ONLY", zlib.Z_HUFFMAN_ONLY))]
    try:
        from zlib_ng import zlib_ng

        opts += [("png_fast layout: Up + zlib-ng 1", png_variant("up", zlib_ng, 1)),
                 ("png_fast layout: Up + zlib-ng 2", png_variant("up", zlib_ng, 2)),
                 ("png_fast layout: Up + zlib-ng 6", png_variant("up", zlib_ng, 6)),
                 ("png_fast layout: Sub + zlib-ng 3", png_variant("sub", zlib_ng, 3)),
                 ("png_fast layout: no filter + zlib-ng 3", png_variant("none", zlib_ng, 3))]
    except ImportError:
        print("(zlib-ng not installed: png_fast runs on the stdlib's zlib; its variants are left out)")
    opts.append(("png_fast without zlib-ng: Up + zlib 1", png_variant("up", zlib, 1)))
    try:
        import cv2
        import numpy as np

        def cv2_png(level: int, strategy: int | None = None):
            params = [cv2.IMWRITE_PNG_COMPRESSION, level] + ([cv2.IMWRITE_PNG_STRATEGY, strategy] if strategy else [])
            return lambda bgra: cv2.imencode(".png", np.frombuffer(bgra, np.uint8).reshape(HEIGHT, WIDTH, 4)[..., :3],
                                             params)[1].tobytes()

        opts += [("OpenCV PNG level 1", cv2_png(1)), ("OpenCV PNG level 3", cv2_png(3)),
                 ("OpenCV PNG level 1, strategy RLE", cv2_png(1, cv2.IMWRITE_PNG_STRATEGY_RLE))]
    except ImportError:
        print("(opencv-python-headless not installed: OpenCV's PNG left out)")
    try:
        import fpng
        from PIL import Image

        opts.append(("fpng (SSE4.1 PNG writer)", lambda bgra: fpng.from_pil(
            Image.frombuffer("RGB", (WIDTH, HEIGHT), bgra, "raw", "BGRX", 0, 1))))
    except ImportError:
        print("(fpng not installed: left out)")
    opts += [("WebP lossless, method 0, quality 0", pillow("WEBP", lossless=True, method=0, quality=0)),
             ("WebP lossless, method 1, quality 25", pillow("WEBP", lossless=True, method=1, quality=25))]
    return opts


def lossless(data: bytes, scene_rgb: bytes) -> bool:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    return image.size == (WIDTH, HEIGHT) and image.convert("RGB").tobytes() == scene_rgb


def encoder_table(rounds: int) -> list[dict]:
    scene = denv.desktop_background(WIDTH, HEIGHT)
    scene_rgb = scene.tobytes()
    bgra = scene.convert("RGBA").tobytes("raw", "BGRA")
    opts = encoder_options()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in opts}
    outputs: dict[str, bytes] = {}
    for name, fn in opts:  # warm-up: imports, first-call costs
        outputs[name] = fn(bgra)
    for k in range(rounds):
        for name, fn in opts[k % len(opts):] + opts[:k % len(opts)]:
            c0, t0 = time.process_time(), time.perf_counter()
            fn(bgra)
            times[name].append((time.process_time() - c0, time.perf_counter() - t0))
    rows = []
    print(f"\n== 1. lossless encoders, {WIDTH}x{HEIGHT} desktop-like scene, {rounds} interleaved rounds "
          f"(medians; CPU = process time) ==")
    print(f"  {'option':46} {'CPU ms':>7} {'wall ms':>8} {'KiB':>6}  {'x old CPU':>9} {'x old size':>10} lossless")
    old = opts[0][0]
    old_cpu = statistics.median(c for c, _ in times[old])
    old_size = len(outputs[old])
    for name, _ in opts:
        cpu = statistics.median(c for c, _ in times[name]) * 1000
        wall = statistics.median(w for _, w in times[name]) * 1000
        size = len(outputs[name])
        ok = lossless(outputs[name], scene_rgb)
        rows.append({"option": name, "cpu_ms": cpu, "wall_ms": wall, "bytes": size, "lossless": ok})
        print(f"  {name:46} {cpu:7.1f} {wall:8.1f} {size / 1024:6.0f}  {cpu / 1000 / old_cpu:9.2f} "
              f"{size / old_size:10.2f} {'yes' if ok else 'NO'}", flush=True)
    return rows


# ============================================================================ 2. end to end
def cpu_s() -> float:
    """This process (client + in-process server) and its waited-for children (xclip)."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


PHASES = ("grab", "png", "save", "queue", "upload", "clipboard")
PATHS = {  # name -> what the user waits for
    "new": "fresh grab (as `snaplark shot`) -> png_fast -> file -> upload on a kept connection -> link owned "
           "in-process (Tk root, as the tray app; `snaplark shot --copy` still ends with xclip, as head)",
    "app": "the tray app's Capture screen: kept grab (KeptCapture, open since the last capture) -> the rest as new",
    "head": "new as it was at 98fadaa: fresh grab through XShm -> png_fast -> file -> upload (new client + "
            "connection) -> xclip (+ read-back)",
    "old": "before issue 21: fresh grab through XShm -> Pillow level 1 -> file -> upload (new connection) -> xclip",
    "ui-new": "annotator Upload, no annotation: PNG encoded ahead [png_fast] -> file -> upload on a kept "
              "connection -> link in-process",
    "ui-old": "annotator Upload before issue 21: Pillow level 3 export -> file -> upload (new connection) -> xclip",
}
CURRENT = ("new", "app", "ui-new")  # kept connections, in-process clipboard; the others as before


class TkThread:
    """A Tk root running its main loop on its own thread behind a UiDispatcher, as in the tray app (whose upload
    waiter posts the copy to the Tk thread): ``run(fn)`` posts ``fn`` and waits for it."""

    def __init__(self) -> None:
        import threading

        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="bench-tk", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the Tk thread did not start")

    def _main(self) -> None:
        import tkinter as tk

        from tray.ui.dispatcher import UiDispatcher
        from tray_platform.linux.clipboard import create

        self.root = tk.Tk()
        self.root.withdraw()
        self.dispatcher = UiDispatcher(self.root)
        self.clipboard = create(root=self.root, in_process=True)  # what DesktopApp._open_clipboard makes
        self._ready.set()
        self.dispatcher.run()
        self.root.destroy()
        import gc

        del self.clipboard, self.dispatcher, self.root
        gc.collect()  # Tk's objects finalised on their own thread (else Tcl aborts at exit)

    def run(self, fn: Callable[[], object], timeout: float = 30.0) -> None:
        import threading

        done, box = threading.Event(), {}

        def call() -> None:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                box["error"] = exc
            finally:
                done.set()

        self.dispatcher.post(call)
        if not done.wait(timeout):
            raise TimeoutError("the Tk thread did not run the copy")
        if "error" in box:
            raise box["error"]

    def stop(self) -> None:
        self.dispatcher.stop()
        self._thread.join(10)


def link_bench(work: Path, tries: int) -> dict:
    import requests
    from PIL import Image
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread
    from snaplark_server.users import ensure_local_user

    from tests.share_links import file_of
    from tray.api.client import ApiClient
    from tray.capture import screenshot
    from tray.capture.backends import default_display_info
    from tray.capture.png_fast import encode_png
    from tray.capture.target import screen_layout
    from tray.ui.annotator.document import AnnotationDocument
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal
    from tray_platform.linux.capture import X11ScreenCapture
    from tray_platform.linux.clipboard import XclipClipboard

    def old_png(image, level: int) -> bytes:
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=level)
        return out.getvalue()

    kept = screenshot.KeptCapture()

    class XShmOnly:
        """An X11 adapter without ``grab_once``: ``screenshot.grab`` then grabs as it did before (XShm)."""

        def __init__(self, capture) -> None:
            self.grab, self.close = capture.grab, capture.close

    def prepare(kind: str):
        """What happens before the user's wait starts: for the annotator paths, the capture and the annotator
        open (the worker encodes meanwhile; 0.3 s is a quick user)."""
        if not kind.startswith("ui-"):
            return None
        doc = AnnotationDocument(screenshot.capture_image(0))
        if kind == "ui-new":
            doc.encode_base_ahead()
        time.sleep(0.3)
        return doc

    def grab(kind: str, doc):
        """(width, height, bgra) or, for the annotator paths, nothing (grabbed before the wait)."""
        if doc is not None:
            return None
        if kind in ("head", "old"):  # before grab_once: one grab through XShm on a fresh adapter, then close
            return screenshot.grab(0, capture_factory=lambda: XShmOnly(X11ScreenCapture()))
        if kind == "app":  # CaptureFlow.grab_everything: the monitors read afresh, the kept adapter grabs
            screen, _monitors = screen_layout(default_display_info())
            return kept.grab(screen)
        return screenshot.grab(0)

    def encode(kind: str, doc, pixels) -> bytes:
        if kind == "old":
            return old_png(Image.frombuffer("RGB", pixels[:2], bytes(pixels[2]), "raw", "BGRX", 0, 1), 1)
        if kind == "ui-new":
            return doc.export_png()
        if kind == "ui-old":
            return old_png(doc.render(), 3)  # AnnotationDocument.export_png before issue 21
        return encode_png(*pixels)

    def expected(doc, pixels) -> bytes:
        """The RGB pixels the PNG must decode to (computed outside the timed steps)."""
        if doc is not None:
            return doc.base.tobytes()
        return Image.frombuffer("RGB", pixels[:2], bytes(pixels[2]), "raw", "BGRX", 0, 1).tobytes()

    runs: dict[str, list[dict]] = {kind: [] for kind in PATHS}
    with denv.xvfb(WIDTH, HEIGHT) as display:
        env = {**os.environ, "DISPLAY": display}
        os.environ["DISPLAY"] = display
        denv.set_root_background(env, work, WIDTH, HEIGHT)
        data_dir = work / "server-data"
        token = ensure_local_user(data_dir, "bench")
        shots = work / "shots"
        shots.mkdir()
        tk_thread = TkThread()
        with ServerThread(ServerConfig(port=0, data_dir=data_dir, access_log="off")) as server:
            journals = [UploadJournal(work / f"journal-{i}.sqlite3").open() for i in range(2)]
            engines = [UploadEngine(lambda: ApiClient(server.api_url, lambda: token), journal,
                                    server_url=server.url, idle_clients=keep)
                       for journal, keep in zip(journals, (2, 0))]
            xclip = XclipClipboard()
            last: dict[str, tuple] = {}

            def one(kind: str, i: int) -> dict:
                current = kind in CURRENT
                engine = engines[0 if current else 1]
                copy = tk_thread.clipboard.copy_text if current else xclip.copy_text
                doc = prepare(kind)
                if not current:  # the app before owned nothing itself (and xclip's read-back must not ask us)
                    tk_thread.run(tk_thread.clipboard.release)
                marks, cpus = [time.perf_counter()], [cpu_s()]

                def mark() -> None:
                    marks.append(time.perf_counter())
                    cpus.append(cpu_s())

                pixels = grab(kind, doc)
                mark()
                png = encode(kind, doc, pixels)
                mark()
                path = shots / f"{kind}-{i}.png"
                path.write_bytes(png)
                mark()
                upload = engine.upload_screenshot(path)
                mark()
                link = upload.wait(30)
                mark()
                tk_thread.run(lambda: copy(link))  # on the Tk thread, as RecentUploads.uploaded -> copy_link
                mark()
                cpu = cpus[-1] - cpus[0]
                last[kind] = (link, png, expected(doc, pixels))
                phases = dict(zip(PHASES, (b - a for a, b in zip(marks, marks[1:]))))
                phases.update({f"cpu-{p}": b - a for p, a, b in zip(PHASES, cpus, cpus[1:])})
                return {"link": link, "bytes": len(png), "total": marks[-1] - marks[0], "cpu": cpu, **phases}

            try:
                kinds = list(PATHS)
                cold = {kind: one(kind, -1) for kind in kinds}
                for i in range(tries):
                    for kind in kinds[i % len(kinds):] + kinds[:i % len(kinds)]:
                        res = one(kind, i)
                        got = read_clipboard(env)
                        if got != res["link"]:
                            raise RuntimeError(f"{kind}: clipboard holds {got!r}, expected {res['link']!r}")
                        runs[kind].append(res)
                        time.sleep(0.05)
            finally:
                for engine in engines:
                    engine.stop()
                for journal in journals:
                    journal.close()
                kept.close()
                tk_thread.stop()
            checks = {}
            for kind, (link, png, want) in last.items():
                body = requests.get(file_of(link), timeout=30).content
                checks[kind] = body == png and Image.open(io.BytesIO(body)).convert("RGB").tobytes() == want
    print(f"\n== 2. screenshot -> link on clipboard ({WIDTH}x{HEIGHT}, loopback, {tries} tries each, interleaved; "
          f"ms; cpu = client + in-process server + xclip) ==")
    for kind, what in PATHS.items():
        print(f"  {kind:7} {what}")
    print("cold first run:  " + "   ".join(f"{k} {cold[k]['total'] * 1000:.1f}" for k in PATHS)
          + "   (not in the percentiles)")
    totals = {k: [r["total"] * 1000 for r in runs[k]] for k in runs}
    for kind in PATHS:
        cpu = statistics.median(r["cpu"] for r in runs[kind]) * 1000
        print(f"  {kind:7} {summary(totals[kind])}   cpu p50 {cpu:.1f}")
    for new, old in (("new", "head"), ("new", "old"), ("app", "head"), ("ui-new", "ui-old")):
        print(f"  ratio {new}/{old}   p50 {pct(totals[new], 50) / pct(totals[old], 50):.2f}   "
              f"p95 {pct(totals[new], 95) / pct(totals[old], 95):.2f}   cpu p50 "
              f"{statistics.median(r['cpu'] for r in runs[new]) / statistics.median(r['cpu'] for r in runs[old]):.2f}")
    print("  steps p50/p95 (ms):")
    for kind in PATHS:
        parts = "  ".join(f"{p} {statistics.median(r[p] for r in runs[kind]) * 1000:.1f}"
                          f"/{pct([r[p] * 1000 for r in runs[kind]], 95):.1f}"
                          for p in PHASES)
        kib = statistics.median(r["bytes"] for r in runs[kind]) / 1024
        print(f"  {kind:7} {parts}   (PNG {kib:.0f} KiB; the uploaded file decodes to exactly the capture: "
              f"{'yes' if checks[kind] else 'NO'})")
    print("  steps' CPU p50 (ms; this process's threads -- client, in-process server, Tk -- and xclip; less "
          "load-sensitive than the wall times):")
    for kind in PATHS:
        print(f"  {kind:7} " + "  ".join(f"{p} {statistics.median(r['cpu-' + p] for r in runs[kind]) * 1000:.1f}"
                                         for p in PHASES))
    p95 = pct(totals["new"], 95)
    print(f"GOAL capture+PNG+upload -> clipboard p95 <= {GOAL_P95_MS:.0f} ms: new {p95:.1f} ms "
          f"{verdict(p95 <= GOAL_P95_MS)} (same run: app {pct(totals['app'], 95):.1f} ms, head "
          f"{pct(totals['head'], 95):.1f} ms, old {pct(totals['old'], 95):.1f} ms; annotator Upload: ui-new "
          f"{pct(totals['ui-new'], 95):.1f} ms, ui-old {pct(totals['ui-old'], 95):.1f} ms)", flush=True)
    return {"runs": runs, "cold": cold, "lossless": checks, "p95": {k: pct(totals[k], 95) for k in PATHS}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds of the encoder table")
    ap.add_argument("--tries", type=int, default=30, help="end-to-end tries of each path")
    ap.add_argument("--only", choices=("table", "link"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    load = os.getloadavg()
    print(f"screenshot_link: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs")
    results: dict = {}
    if args.only != "link":
        results["table"] = encoder_table(args.rounds)
    if args.only != "table":  # the table's numpy/zlib-ng imports are warm for both sides by now
        with tempfile.TemporaryDirectory(prefix="snaplark-shot-bench-") as tmp:
            results["link"] = link_bench(Path(tmp), args.tries)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
