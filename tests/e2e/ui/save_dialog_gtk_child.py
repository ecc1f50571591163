"""Child process for test_annotator_close_save_prefs.py: an annotator whose Save picks its dialog the way the app's
does (``choose_save_chooser``), driven with xdotool: Ctrl+S, wait for GTK's "Save screenshot" dialog, screenshot it,
Return (accept the proposed folder and name), wait for the file.

Run as ``python3 save_dialog_gtk_child.py OUT_DIR EPOCH_SECONDS`` with DISPLAY set; writes OUT_DIR/info.json and
OUT_DIR/dialog.png. GTK runs here, not in pytest's process: GLib ties its session-bus connection to the process
(exit-on-close), so a bus going away at the end of the test session would SIGTERM pytest itself. Every wait is
bounded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

OUT, NOW = Path(sys.argv[1]), float(sys.argv[2])

import tkinter as tk  # noqa: E402

from PIL import Image  # noqa: E402

from tests.e2e.ui.conftest import pump  # noqa: E402
from tray import paths  # noqa: E402
from tray.ui.annotator.save_chooser import DIALOG_TITLE  # noqa: E402
from tray.ui.annotator.tools import Style, ToolKind, create_tool  # noqa: E402
from tray.ui.annotator.window import AnnotatorWindow  # noqa: E402


def xdotool(root: tk.Tk, *args: str) -> str:
    proc = subprocess.Popen(["xdotool", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pump(root, lambda: proc.poll() is not None, timeout=15)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=5)
    return out


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    info: dict = {}
    root = tk.Tk()
    root.withdraw()
    win = AnnotatorWindow(root, Image.new("RGB", (400, 260), (255, 255, 255)), lambda png: None,
                          display_scale=1.0, clock=lambda: NOW)
    pump(root, lambda: win.canvas.winfo_viewable(), timeout=10)
    tool = create_tool(ToolKind.RECTANGLE, Style("#e53935", 4), win.document.context())
    tool.press(40, 40)
    tool.release(200, 160)
    win.document.commit(tool)
    pump(root, timeout=0.2)
    info["captures_dir"] = str(paths.captures_dir())

    xdotool(root, "key", "--window", str(win.window.winfo_id()), "ctrl+s")
    found: list[str] = []

    def dialog_up() -> bool:
        found[:] = xdotool(root, "search", "--onlyvisible", "--name", f"^{DIALOG_TITLE}$").split()
        return bool(found)

    info["dialog_shown"] = pump(root, dialog_up, timeout=20)
    info["chooser"] = getattr(win._save.chooser, "name", None)
    info["gtk_loaded"] = "gi.repository.Gtk" in sys.modules
    if info["dialog_shown"]:
        pump(root, timeout=1.5)  # GTK lays the dialog out and lists the folder
        import mss

        with mss.MSS() as sct:
            shot = sct.grab(sct.monitors[0])
            Image.frombytes("RGB", shot.size, shot.rgb).save(OUT / "dialog.png")
        xdotool(root, "windowfocus", "--sync", found[0])
        xdotool(root, "key", "Return")
        info["answered"] = pump(root, lambda: not win._save.saving, timeout=20)
        info["dialog_gone"] = pump(root, lambda: not dialog_up(), timeout=10)
    saved = sorted(str(p) for p in Path(info["captures_dir"]).glob("*")) if Path(info["captures_dir"]).exists() \
        else []
    info["saved"] = saved
    info["export_matches"] = [Path(p).read_bytes() == win.export_png() for p in saved]
    info["status"] = win.status.cget("text")
    win.close()
    pump(root, timeout=0.05)
    root.destroy()
    (OUT / "info.json").write_text(json.dumps(info, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
