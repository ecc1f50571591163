"""Child process for test_export_with_gtk.py: annotate a fixed scene with every tool in an AnnotatorWindow, grab the
canvas from the X display, and export it through the window's upload, copy and save paths.

Run as ``python3 export_with_gtk_child.py {gtk|plain} OUT_DIR`` with DISPLAY set. In ``gtk`` mode GTK 3 is loaded
first, the way the tray app does it (tray_platform.linux.tray.import_pystray: pystray's gtk backend through
PyGObject), *before* anything imports Pillow's FreeType module -- the order that broke Raqm text layout in the tray.
Writes base.png (the screenshot), screen.png (the canvas as shown), upload.png / copy.png / save.png (the
exports) and info.json (the scene's geometry and facts about the process). Every wait is bounded. Imports nothing
from ``tests`` (that could load Pillow's fonts before GTK).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

MODE, OUT = sys.argv[1], Path(sys.argv[2])
assert MODE in ("gtk", "plain"), MODE

info: dict = {"mode": MODE}
if MODE == "gtk":
    import gi

    gi.require_version("Gtk", "3.0")
    # importing is enough to break Raqm (PyGObject's Gtk override also runs Gtk.init_check, display or not)
    from gi.repository import Gtk
    from tray_platform.linux import tray as tray_adapter

    pystray = tray_adapter.import_pystray()  # exactly what the tray icon does before its loop starts
    info["pystray_backend"] = pystray.Icon.__module__
    info["gtk_initialised"] = bool(Gtk.init_check(None)[0])
    info["imagingft_loaded_before_gtk"] = "PIL._imagingft" in sys.modules

import tkinter as tk

from PIL import Image, ImageDraw, ImageFont

from tests.e2e.ui.conftest import pump
from tray.ui.annotator.tools import Style, ToolKind, create_tool
from tray.ui.annotator.window import AnnotatorWindow

FONT_LIBS = re.compile(r"libgtk-3|libharfbuzz|libfreetype")
W, H = 640, 420
BG = (28, 32, 40)
CHECKER = (440, 280, 632, 412)

# (kind, points, colour, width, text): the scene. Text and counters sit alone in their bands (the test measures
# them there); the shapes are to the right and below.
TEXT_WHITE = (20, 14)
TEXT_RED = (20, 66)
COUNTERS = [((60, 180), "#e53935"), ((130, 180), "#fdd835"), ((200, 180), "#1e88e5")]
SCENE = [
    (ToolKind.ARROW, [(260, 30), (330, 70), (400, 110)], "#1e88e5", 5, None),
    (ToolKind.LINE, [(420, 30), (620, 110)], "#43a047", 4, None),
    (ToolKind.RECTANGLE, [(260, 140), (380, 210)], "#fb8c00", 4, None),
    (ToolKind.ELLIPSE, [(400, 140), (520, 210)], "#8e24aa", 4, None),
    (ToolKind.PEN, [(20, 240), (60, 300), (100, 240), (140, 300), (180, 240)], "#e53935", 3, None),
    (ToolKind.HIGHLIGHTER, [(20, 350), (120, 350), (220, 350)], "#fdd835", 4, None),
    (ToolKind.TEXT, [TEXT_WHITE], "#ffffff", 4, "Bug is here!"),
    (ToolKind.TEXT, [TEXT_RED], "#e53935", 4, "Bug is here!\nand here too"),
    (ToolKind.PIXELATE, [(450, 290), (620, 400)], "#e53935", 4, None),
    *[(ToolKind.COUNTER, [c], colour, 4, None) for c, colour in COUNTERS],
    (ToolKind.RECTANGLE, [(260, 250), (400, 330)], "#ffffff", 4, None),  # the eraser removes this one
    (ToolKind.ERASER, [(400, 290)], "#e53935", 4, None),
]


def base_image() -> Image.Image:
    img = Image.new("RGB", (W, H), BG)
    d = ImageDraw.Draw(img)
    l, t, r, b = CHECKER
    for y in range(t, b, 8):
        for x in range(l, r, 8):
            d.rectangle((x, y, x + 7, y + 7), fill=(235, 235, 235) if (x // 8 + y // 8) % 2 else (60, 60, 60))
    return img


def grab(box: tuple[int, int, int, int]) -> Image.Image:
    import mss

    l, t, r, b = box
    with mss.MSS() if hasattr(mss, "MSS") else mss.mss() as sct:
        shot = sct.grab({"left": l, "top": t, "width": r - l, "height": b - t})
        return Image.frombytes("RGB", shot.size, shot.rgb)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    root = tk.Tk()
    root.withdraw()
    base = base_image()
    base.save(OUT / "base.png")
    got: dict[str, list[bytes]] = {"upload": [], "copy": [], "save": []}
    win = AnnotatorWindow(root, base, on_upload=got["upload"].append, on_copy=got["copy"].append,
                          on_save=got["save"].append, display_scale=1.0)
    if not pump(root, lambda: win.canvas.winfo_viewable(), timeout=10):
        print("annotator canvas never became viewable", file=sys.stderr)
        return 3
    doc = win.document
    items = []
    for kind, points, colour, width, text in SCENE:
        tool = create_tool(kind, Style(colour, width), doc.context())
        tool.press(*points[0])
        for p in points[1:]:
            tool.move(*p)
        ok = tool.release(*points[-1])
        if text is not None:
            tool.set_text(text)
            ok = tool.is_valid()
        assert ok, f"{kind} gesture not valid"
        doc.commit(tool)
        entry = {"kind": kind.key, "color": tool.style.color, "start": list(tool.start)}
        if kind is ToolKind.COUNTER:
            entry.update(number=tool.number, radius=tool.radius)
        elif kind not in (ToolKind.TEXT, ToolKind.ERASER):  # a text's bbox is Pillow's layout: not trusted here
            entry["bbox"] = list(tool.bbox())
        items.append((entry, tool))
    assert len(doc.items) == len(SCENE) - 2, "the eraser did not remove the rectangle"
    for entry, tool in items:
        entry["in_document"] = any(tool is item for item in doc.items)
    items = [entry for entry, _ in items]
    info["items"] = items
    info["erased_bbox"] = [260, 250, 400, 330]
    pump(root, timeout=0.3)
    x, y = win.canvas.winfo_rootx(), win.canvas.winfo_rooty()
    grab((x, y, x + W, y + H)).save(OUT / "screen.png")
    win.upload()
    win.copy()
    win.save()
    for name, pngs in got.items():
        assert len(pngs) == 1, f"{name}: {len(pngs)} exports"
        (OUT / f"{name}.png").write_bytes(pngs[0])
    win.close()
    pump(root, timeout=0.05)
    root.destroy()

    info["gtk_in_sys_modules"] = "gi.repository.Gtk" in sys.modules
    with open("/proc/self/maps") as maps:
        info["libs"] = sorted({line.split()[-1].rsplit("/", 1)[-1] for line in maps if FONT_LIBS.search(line)})
    info["freetype_version"] = getattr(ImageFont.core, "freetype2_version", None)
    try:  # diagnostics only: what Raqm makes of the text in this process (the layout the fix stopped using)
        raqm = ImageFont.truetype("DejaVuSans.ttf", 26, layout_engine=ImageFont.Layout.RAQM)
        info["raqm_bbox"] = list(raqm.getbbox("Bug is here!"))
    except Exception as exc:  # noqa: BLE001 - no Raqm in this Pillow, or no such font
        info["raqm_bbox"] = f"{type(exc).__name__}: {exc}"
    (OUT / "info.json").write_text(json.dumps(info, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
