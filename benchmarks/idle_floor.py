"""Where the idle tray app's RSS goes: minimal programs made of the toolkits the app is built on, next to the app,
all idle at the same time on one desktop (issue 21 goal 4: idle RSS <= 1.1x a bare pystray icon).

    python benchmarks/idle_floor.py [--idle 20] [--settle 5]

Each row is a separate process started the same way (``python benchmarks/idle_floor.py --child KIND``), except the
app (benchmarks/_desktop_env.AppProcess, as benchmarks/hotkey_latency.py starts it):

* ``pystray``          -- the bare gtk icon with a one-item menu: the peer of hotkey_latency.py (same function);
* ``pystray+tk``       -- plus a withdrawn Tk root whose main loop runs on the main thread and the icon on its own
                          thread, as in the app (the app's UI, selector and dialogs are Tk);
* ``pystray+tk+pynput``-- plus a pynput ``GlobalHotKeys`` listener (XRecord) for one combination (the app's hotkeys);
* ``app``              -- ``python -m tray`` (through the probes launcher), icon, hotkeys, notifier, upload stack.

Printed: RSS max over the window (MiB; anonymous / file-backed at the end), and each row over ``pystray``. The rows
above the app are the floor of the app's design: what it costs before any Snaplark code.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _desktop_env as denv  # noqa: E402
import hotkey_latency as hl  # noqa: E402

KINDS = ("pystray", "pystray+tk", "pystray+tk+pynput")


class FloorChild(hl.Child):
    """``python benchmarks/idle_floor.py --child KIND`` with its stdout in a file."""

    def __init__(self, kind: str, env: dict, work: Path):
        self.out_path = work / f"{kind.replace('+', '_')}.out"
        self._out = self.out_path.open("w")
        self.proc = subprocess.Popen([sys.executable, __file__, "--child", kind], env=env, stdout=self._out,
                                     stderr=subprocess.STDOUT)

    @staticmethod
    def ready_line(kind: str) -> str:
        return "peer tray ready" if kind == "pystray" else re.escape(f"{kind} ready")


def child_main(kind: str) -> int:
    if kind == "pystray":
        return hl.peer_tray_main()
    os.environ.setdefault("GDK_GL", "disable")
    import threading
    import tkinter as tk

    import pystray
    from PIL import Image, ImageDraw

    root = tk.Tk(className="floor")
    root.withdraw()
    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse((4, 4, 60, 60), fill=(30, 136, 229, 255))
    icon = pystray.Icon("floor", img, "floor", menu=pystray.Menu(pystray.MenuItem("Quit", lambda i, _: i.stop())))
    threading.Thread(target=icon.run, kwargs={"setup": lambda i: setattr(i, "visible", True)}, daemon=True).start()
    if kind.endswith("+pynput"):
        from pynput import keyboard

        listener = keyboard.GlobalHotKeys({"<ctrl>+<alt>+x": lambda: None})
        listener.start()
        listener.wait()
    root.after(1000, lambda: print(f"{kind} ready", flush=True))
    root.mainloop()
    return 0


def run(args: argparse.Namespace) -> int:
    print(f"idle_floor: idle={args.idle:.0f}s settle={args.settle:.0f}s  [{hl.load_note()}]", flush=True)
    with tempfile.TemporaryDirectory(prefix="snaplark-idle-floor-") as tmp:
        work = Path(tmp)
        with denv.desktop_session(work / "desktop", hl.WIDTH, hl.HEIGHT) as env:
            children: dict[str, FloorChild] = {}
            app = None
            try:
                for kind in KINDS:
                    children[kind] = child = FloorChild(kind, env, work)
                    child.wait_line(FloorChild.ready_line(kind), 60)
                app = denv.AppProcess(env, work / "app", probes=True)
                app.wait_log(r"tray app running", 90)
                time.sleep(args.settle)
                pids = {kind: c.proc.pid for kind, c in children.items()}
                pids["app"] = app.pid
                res = hl.measure_idle(pids, args.idle)
            finally:
                for child in children.values():
                    child.stop()
                if app is not None:
                    app.stop()
    base = res["pystray"]["rss_max_mib"]
    print(f"\n== idle RSS over {res['_wall']['seconds']:.0f} s after a {args.settle:.0f} s settle (MiB) ==")
    prev = None
    for kind in (*KINDS, "app"):
        r = res[kind]
        parts = r.get("rss_parts") or {}
        step = f"  +{r['rss_max_mib'] - prev:5.1f} over the row above" if prev is not None else ""
        print(f"  {kind:<18} RSS {r['rss_max_mib']:6.1f}  (anon {parts.get('anon', 0):5.1f}, file "
              f"{parts.get('file', 0):5.1f})  {r['rss_max_mib'] / base:5.2f}x pystray  CPU {r['cpu_pct']:.2f} %  "
              f"{r['threads']} threads{step}")
        prev = r["rss_max_mib"]
    floor = res["pystray+tk+pynput"]["rss_max_mib"] / base
    print(f"floor of the design (icon + Tk + pynput, no Snaplark code): {floor:.2f}x pystray; "
          f"goal 1.1x -> {'reachable' if floor <= 1.1 else 'not reachable with these toolkits'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--idle", type=float, default=20.0, help="idle window in seconds")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds to settle before the idle window")
    ap.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
