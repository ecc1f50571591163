"""What the idle tray app holds (issue 21 goal 4; the figures are benchmarks/hotkey_latency.py's, never a test's).

1. Modules: the tray app's start-up -- as benchmarks/hotkey_latency.py starts it, through the timing probes of
   benchmarks/_tray_probes.py -- imports none of what only a capture, a recording, the web server or the history
   page needs. Built here without a display: the settings file, ``DesktopApp`` with its flows, the modules
   ``DesktopApp._run`` imports, and the upload stack with the embedded server bound but not started (as the app
   opens it), in a fresh interpreter.
2. Heap: ``tray_platform.memory.trim_heap`` (the app calls it once start-up is over, then each idle minute) gives
   freed C-heap pages back to the OS -- measured on this process's own RssAnon, in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PATHS = [REPO, REPO / "platform", REPO / "server", REPO / "benchmarks"]

# Imported on first use only: each is MiBs of RSS (or pulls such in) that an idle tray app does not need.
CAPTURE_ONLY = [
    "av", "numpy", "mss", "PIL.ImageTk", "PIL.ImageDraw", "PIL.ImageFilter",  # encoders, grabs, drawing
    "jinja2", "fastapi", "starlette", "uvicorn", "pydantic", "keyring",  # the web server, the keyring stack
    "snaplark_server.runner", "snaplark_server.app", "snaplark_server.users",
    "tray.ui.selector", "tray.ui.selection_model", "tray.ui.annotator", "tray.ui.history_window",
    "tray.ui.settings_window", "tray.capture.screenshot", "tray.capture.encoder", "tray.capture.recorder",
    "tray.ocr",
]


def _fresh_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, PATHS)), SNAPLARK_DATA_DIR=str(tmp_path / "data"),
               SNAPLARK_LOG_DIR=str(tmp_path / "log"), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    (tmp_path / "run").mkdir(mode=0o700)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
                          check=False, env=env, cwd=str(tmp_path))


def test_idle_tray_app_has_not_imported_what_only_captures_need(tmp_path):
    port = _free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"schema_version = 2\n[server]\nembedded_port = {port}\n[capture]\ncountdown = 0\n")
    out = _fresh_python(f"""
        import argparse, json, sys
        from pathlib import Path

        import _tray_probes  # the benchmark's launcher: the app plus its timing probes
        _tray_probes.install_probes()
        from tray.cli import main  # noqa: F401 - what the launcher runs
        from tray.ui.desktop import DesktopApp

        app = DesktopApp.from_args(argparse.Namespace(config=Path({str(cfg)!r})))
        # what DesktopApp.run/_run import before the main loop (the display-bound objects are not built here)
        import tkinter  # noqa: F401
        from tray.services import UploadStack
        from tray.ui.dispatcher import UiDispatcher  # noqa: F401
        from tray.ui.hotkeys import GlobalHotkeys  # noqa: F401
        from tray.ui.notifications import ProgressNotifier, open_notifier  # noqa: F401
        from tray.ui.single_instance import SingleInstance  # noqa: F401
        from tray.ui.tray_icon import TrayIcon  # noqa: F401

        stack = UploadStack(app.settings, on_event=lambda event: None, lazy_server=True).open()
        try:
            assert stack.connection.embedded is not None and not stack.connection.embedded.active
            stack.engine.resume_all()
            print(json.dumps(sorted(sys.modules)))
        finally:
            stack.close()
    """, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {"tray.ui.desktop", "tray.services", "tray.upload.engine", "snaplark_server.activation"} <= loaded
    assert [m for m in CAPTURE_ONLY if m in loaded] == []


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="malloc_trim is glibc's")
def test_trim_heap_gives_freed_heap_pages_back(tmp_path):
    out = _fresh_python("""
        import json
        from tray_platform.memory import trim_heap

        def rss_anon_kib():
            for line in open("/proc/self/status"):
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])

        # 64 KiB blocks (below malloc's mmap threshold: they live in the heap), written so their pages are
        # resident; every other one freed leaves ~12 MiB of holes that free() alone keeps (the top block stays)
        blocks = [bytes([1]) * 65536 for _ in range(400)]
        del blocks[::2]
        before = rss_anon_kib()
        released = trim_heap()
        after = rss_anon_kib()
        print(json.dumps({"released": released, "before": before, "after": after, "kept": len(blocks)}))
    """, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["released"] is True, got
    assert got["before"] - got["after"] >= 8 * 1024, got  # KiB: most of the ~12 MiB of holes went back


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
