"""The annotator's export is the same whether or not GTK 3 is loaded in the process, and it contains the text.

The tray app loads GTK 3 (pystray's gtk backend, through PyGObject) long before the annotator first imports
Pillow's fonts. In that order the system HarfBuzz/FreeType that GTK brings in (opened RTLD_GLOBAL by
gobject-introspection) capture the symbols of Pillow's ``_imagingft``, and Raqm layout returned garbage: exported
text kept at most its first glyph and counters were blank discs, while the Tk canvas showed them fine. Merely
importing ``gi.repository.Gtk`` is enough, display or not; what matters is that it happens before Pillow's FreeType
module loads, so each case runs in a fresh process (export_with_gtk_child.py): one that loads GTK first exactly like
the tray (``import_pystray``), and one that never loads it.

Checked: both processes export pixel-identical PNGs for a scene with every tool (arrow, line, rectangle, ellipse,
pen, highlighter, white and red text, pixelate, three counters, and a rectangle removed by the eraser), upload, copy
and save export the same bytes, every shape is there, the erased one is not, and -- against a grab of the canvas
as Tk shows it on the Xvfb display -- each text spans as wide as on screen and covers the same pixels, and every
counter disc has its digit.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter

from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("export_with_gtk_child.py")
CHILD_TIMEOUT = 90.0

WHITE_TEXT_BAND = (0, 8, 250, 58)  # where the child puts the white "Bug is here!" (nothing else there)
RED_TEXT_BAND = (0, 60, 250, 140)  # the red two-line text


def run_child(mode: str, out: Path) -> dict:
    env = dict(os.environ)
    # the tray package of this checkout (not whatever is installed), as the test itself imports it
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), str(REPO / "platform"), str(REPO / "server")] + [p for p in [env.get("PYTHONPATH")] if p])
    try:
        proc = subprocess.run([sys.executable, str(CHILD), mode, str(out)], env=env, capture_output=True,
                              text=True, timeout=CHILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{mode} child did not finish in {CHILD_TIMEOUT} s; stderr: {exc.stderr!r}")
    assert proc.returncode == 0, f"{mode} child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return json.loads((out / "info.json").read_text())


def load(path: Path) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGB")


def mask(img: Image.Image, box: tuple[int, int, int, int], pred) -> Image.Image:
    """1-bit mask of the pixels inside ``box`` for which ``pred(rgb)`` holds."""
    out = Image.new("1", img.size, 0)
    src, dst = img.load(), out.load()
    l, t, r, b = box
    for y in range(t, b):
        for x in range(l, r):
            if pred(src[x, y]):
                dst[x, y] = 1
    return out


def count(m: Image.Image) -> int:
    return sum(1 for v in m.convert("L").tobytes() if v)


def covered(m: Image.Image, other: Image.Image) -> float:
    """Fraction of ``m``'s pixels within 1 px of one of ``other``'s (Tk and Pillow hint glyphs differently)."""
    near = other.convert("L").filter(ImageFilter.MaxFilter(3)).convert("1")
    return count(ImageChops.logical_and(m, near)) / max(1, count(m))


def is_white(p) -> bool:
    return min(p) > 150


def is_red(p) -> bool:
    return p[0] > 90 and p[0] - max(p[1], p[2]) > 50


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def compare_text(name: str, screen: Image.Image, export: Image.Image, box, pred, problems: list[str]) -> None:
    on_screen, in_export = mask(screen, box, pred), mask(export, box, pred)
    s_box, e_box = on_screen.getbbox(), in_export.getbbox()
    assert s_box and s_box[2] - s_box[0] > 100, f"{name}: the canvas shows no text ({s_box}); the scene is broken"
    if not e_box:
        problems.append(f"{name}: no text pixels at all in the export (screen: {count(on_screen)} px across "
                        f"x {s_box[0]}..{s_box[2]})")
        return
    s_width, e_width = s_box[2] - s_box[0], e_box[2] - e_box[0]
    if not (abs(e_box[0] - s_box[0]) <= 3 and 0.9 * s_width <= e_width <= 1.1 * s_width):
        problems.append(f"{name}: export text spans x {e_box[0]}..{e_box[2]} ({e_width} px), the canvas "
                        f"x {s_box[0]}..{s_box[2]} ({s_width} px)")
    n_screen, n_export = count(on_screen), count(in_export)
    precision, recall = covered(on_screen, in_export), covered(in_export, on_screen)
    if not (0.7 * n_screen <= n_export <= 1.4 * n_screen and precision > 0.8 and recall > 0.8):
        problems.append(f"{name}: {n_export} text pixels exported vs {n_screen} on the canvas, "
                        f"screen covered by export {precision:.2f}, export by screen {recall:.2f}")


def digit_mask(img: Image.Image, centre, radius: float, disc: tuple[int, int, int]) -> Image.Image:
    """Pixels well inside the disc that are not the disc's colour: the number."""
    cx, cy = centre
    inner = 0.75 * radius
    box = (int(cx - radius), int(cy - radius), int(cx + radius) + 1, int(cy + radius) + 1)
    out = mask(img, box, lambda p: max(abs(a - b) for a, b in zip(p, disc)) > 80)
    px = out.load()
    for y in range(box[1], box[3]):
        for x in range(box[0], box[2]):
            if math.dist((x, y), (cx, cy)) > inner:
                px[x, y] = 0
    return out


def compare_counter(item: dict, screen: Image.Image, export: Image.Image, problems: list[str]) -> None:
    disc = rgb(item["color"])
    name = f"counter {item['number']} ({item['color']})"
    cx, cy = item["start"]
    if max(abs(a - b) for a, b in zip(export.getpixel((int(cx - item["radius"] * 0.85), int(cy))), disc)) > 40:
        problems.append(f"{name}: no disc in the export at {item['start']}")
    on_screen = digit_mask(screen, item["start"], item["radius"], disc)
    in_export = digit_mask(export, item["start"], item["radius"], disc)
    n_screen, n_export = count(on_screen), count(in_export)
    assert n_screen >= 20, f"{name}: the canvas shows no digit ({n_screen} px); the scene is broken"
    precision, recall = covered(on_screen, in_export), covered(in_export, on_screen)
    if not (0.6 * n_screen <= n_export <= 1.6 * n_screen and precision > 0.8 and recall > 0.8):
        problems.append(f"{name}: {n_export} digit pixels in the exported disc vs {n_screen} on the canvas "
                        f"(screen covered by export {precision:.2f}, export by screen {recall:.2f})")


def save_artifacts(outs: dict[str, Path]) -> list[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    saved = []
    for mode, out in outs.items():
        for name in ("screen", "upload"):
            path = ARTIFACTS / f"export-with-gtk-{mode}-{name}.png"
            if (out / f"{name}.png").exists():
                path.write_bytes((out / f"{name}.png").read_bytes())
                saved.append(str(path))
    return saved


def test_export_identical_with_and_without_gtk_and_has_the_text(xvfb, tmp_path):
    outs = {"gtk": tmp_path / "gtk", "plain": tmp_path / "plain"}
    infos = {mode: run_child(mode, out) for mode, out in outs.items()}

    gtk, plain = infos["gtk"], infos["plain"]
    # the GTK process really is in the state of the tray: GTK 3 initialised before Pillow's FreeType module
    assert gtk["pystray_backend"].endswith("_gtk") and gtk["gtk_initialised"], gtk
    assert not gtk["imagingft_loaded_before_gtk"], "Pillow's fonts were loaded before GTK: the case is not tested"
    assert any(lib.startswith("libgtk-3") for lib in gtk["libs"]), gtk["libs"]
    assert not plain["gtk_in_sys_modules"] and not any(lib.startswith("libgtk-3") for lib in plain["libs"]), plain
    diagnostics = (f"(Pillow's FreeType: {gtk['freetype_version']} with GTK, {plain['freetype_version']} without; "
                   f"Raqm getbbox('Bug is here!'): {gtk['raqm_bbox']} with GTK, {plain['raqm_bbox']} without)")

    problems: list[str] = []
    exports = {}
    for mode, out in outs.items():
        pngs = {name: (out / f"{name}.png").read_bytes() for name in ("upload", "copy", "save")}
        if len(set(pngs.values())) != 1:
            problems.append(f"{mode}: upload, copy and save exported different PNGs")
        exports[mode] = load(out / "upload.png")
    screen = load(outs["gtk"] / "screen.png")
    export = exports["gtk"]
    assert export.size == screen.size == (640, 420)

    compare_text("white text 'Bug is here!'", screen, export, WHITE_TEXT_BAND, is_white, problems)
    compare_text("red text 'Bug is here!\\nand here too'", screen, export, RED_TEXT_BAND, is_red, problems)
    counters = [item for item in gtk["items"] if item["kind"] == "counter"]
    assert [c["number"] for c in counters] == [1, 2, 3]
    for item in counters:
        compare_counter(item, screen, export, problems)

    base = load(outs["gtk"] / "base.png")
    for item in gtk["items"]:
        if "bbox" in item and item["in_document"]:  # every shape, the pen, the highlighter and the pixelated area changed its pixels
            l, t, r, b = (int(v) for v in item["bbox"])
            changed = ImageChops.difference(export.crop((l, t, r + 1, b + 1)), base.crop((l, t, r + 1, b + 1)))
            if count(changed.convert("L").point(lambda v: 255 if v > 30 else 0).convert("1")) < 50:
                problems.append(f"{item['kind']} at {item['bbox']}: nothing drawn in the export")
    assert [i["kind"] for i in gtk["items"] if not i["in_document"]] == ["rectangle", "eraser"]
    l, t, r, b = gtk["erased_bbox"]
    if ImageChops.difference(export.crop((l - 4, t - 4, r + 5, b + 5)), base.crop((l - 4, t - 4, r + 5, b + 5))
                             ).getbbox() is not None:
        problems.append(f"the erased rectangle {gtk['erased_bbox']} is still in the export")

    if exports["gtk"].tobytes() != exports["plain"].tobytes():
        diff = ImageChops.difference(exports["gtk"], exports["plain"])
        n = count(diff.convert("L").point(lambda v: 255 if v else 0).convert("1"))
        problems.append(f"the export with GTK loaded differs from the one without in {n} pixels "
                        f"(within {diff.getbbox()})")

    if problems:
        saved = save_artifacts(outs)
        pytest.fail("\n".join(problems) + f"\n{diagnostics}\nimages: {', '.join(saved)}")
