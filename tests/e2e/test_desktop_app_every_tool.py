"""The whole tray app, every annotator tool, as a user drives it (issue 12, acceptance 1).

Same desktop as test_desktop_app.py (its fixture: Xvfb, trayer, a private D-Bus with the recording notification
service, gnome-keyring, the embedded server, the app started as ``python -m tray``): Ctrl+Alt+S (xdotool) ->
selector -> drag -> annotator -> one annotation of every tool -- arrow, line, rectangle, ellipse, pen, highlighter,
text in white and in red (colours chosen by clicking the palette swatches, found on a screenshot of the toolbar),
blur, three counters, and a rectangle the eraser removes -- -> Ctrl+S (GTK's save dialog, shown from the tray's GTK
thread, opens in the captures folder with the dated name; Return saves there) -> Ctrl+U -> the PNG behind the link
on the clipboard (the same pixels as the saved file).

Checked, against a grab of the canvas just before the upload (as tests/e2e/ui/test_export_with_gtk.py does): the
white and the red text are in the PNG as wide as on screen and on the same pixels, each counter disc has its digit,
every other tool changed its pixels, the erased rectangle is gone. And while the white text was typed, it could be
read in its box (issue 12 #1). Screenshots of each step: test-artifacts/app/every-tool-*.png.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageChops

from tests.e2e.test_desktop_app import (  # noqa: F401
    ARTIFACTS,
    clipboard,
    desktop,
    drag_through,
    sh,
    snap,
    tray_icon_window,
    xdo,
)
from tests.e2e.ui.conftest import pixels
from tests.e2e.ui.test_export_with_gtk import (
    compare_counter,
    compare_text,
    count,
    is_red,
    is_white,
    mask,
)
from tests.procutil import wait_until
from tests.share_links import file_of, new_link

pytestmark = pytest.mark.e2e

PALETTE = {"red": "#e53935", "orange": "#fb8c00", "yellow": "#fdd835", "green": "#43a047", "blue": "#1e88e5",
           "purple": "#8e24aa", "dark": "#212121", "white": "#ffffff"}
SIZE = (640, 400)  # the selection: centred on the screen, where the root window's radial gradient is dark
DRAG = ((320, 160), (960, 560))

WHITE_TEXT, WHITE_BAND = (150, 128), (140, 120, 360, 166)
RED_TEXT, RED_BAND = (150, 176), (140, 170, 360, 214)
COUNTERS = [((400, 150), "red"), ((460, 150), "yellow"), ((520, 150), "blue")]
COUNTER_RADIUS = 10 + 2 * 4  # CounterTool.radius at the default width 4
SHAPES = [  # (key, colour, canvas points): one gesture each
    ("a", "blue", [(30, 30), (80, 55), (130, 80)]),  # arrow
    ("l", "green", [(170, 30), (300, 80)]),  # line
    ("r", "orange", [(340, 30), (440, 90)]),  # rectangle
    ("e", "purple", [(470, 30), (600, 90)]),  # ellipse
    ("p", "red", [(30, 250), (60, 330), (90, 250), (120, 330), (150, 250), (180, 330), (210, 250), (240, 330)]),
    ("h", "yellow", [(60, 365), (200, 365), (300, 365)]),  # highlighter
    ("b", "red", [(150, 240), (260, 340)]),  # blur, over the pen's right half
]
PEN_CRISP = (20, 240, 140, 340)  # the part of the pen left crisp
BLURRED = (152, 242, 258, 338)  # inside the blur
ERASED = [(450, 240), (600, 350)]  # a white rectangle, then the eraser clicks its right edge


def grab(box: tuple[int, int, int, int]) -> Image.Image:
    import mss

    l, t, r, b = box
    with mss.MSS() as sct:
        shot = sct.grab({"left": l, "top": t, "width": r - l, "height": b - t})
        return Image.frombytes("RGB", shot.size, shot.rgb)


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def window_box(name: str) -> tuple[int, int, int, int]:
    wid = wait_until(lambda: (sh("xdotool", "search", "--onlyvisible", "--name", name).split() or [None])[0], 10,
                     f"a visible window named {name!r}")
    geo = sh("xdotool", "getwindowgeometry", wid)
    x, y = (int(v) for v in re.search(r"Position: (-?\d+),(-?\d+)", geo).groups())
    w, h = (int(v) for v in re.search(r"Geometry: (\d+)x(\d+)", geo).groups())
    return x, y, x + w, y + h


def find_swatches(img: Image.Image, box: tuple[int, int, int, int]) -> dict[str, tuple[int, int]]:
    """Screen centres of the palette swatches in ``box`` (the toolbar): horizontal runs of at least 10 pixels of
    exactly a palette colour. White also fills the width box, so the white swatch is the white run that starts right
    after the dark swatch (the palette's order)."""
    l, t, r, b = box
    px = img.load()
    wanted = {rgb(c): name for name, c in PALETTE.items()}
    runs: dict[str, list[tuple[int, int, int]]] = {name: [] for name in PALETTE}
    for y in range(t, b):
        x = l
        while x < r:
            name = wanted.get(px[x, y][:3])
            if name is None:
                x += 1
                continue
            x0 = x
            while x < r and px[x, y][:3] == rgb(PALETTE[name]):
                x += 1
            if 10 <= x - x0 <= 40:
                runs[name].append((y, x0, x))
    found: dict[str, tuple[int, int]] = {}
    dark = runs["dark"]
    for name, rs in runs.items():
        if name == "white" and dark:
            right = max(x1 for _, _, x1 in dark)
            rs = [run for run in rs if right <= run[1] <= right + 12]
        if len(rs) >= 8:  # at least 8 rows: a swatch, not a stray line
            ys, x0s, x1s = [r_[0] for r_ in rs], [r_[1] for r_ in rs], [r_[2] for r_ in rs]
            found[name] = ((min(x0s) + max(x1s)) // 2, (min(ys) + max(ys)) // 2)
    return found


def pen_red(p) -> bool:
    return max(abs(a - b) for a, b in zip(p, rgb(PALETTE["red"]))) <= 40


def text_visible_in_entry(entry: Image.Image, colour: tuple[int, int, int]) -> tuple[int, object]:
    """(pixels near ``colour`` that stand out from the box's background, the background)."""
    values = pixels(entry)
    background = max(set(values), key=values.count)
    near = [p for p in values if max(abs(a - b) for a, b in zip(p, colour)) <= 60
            and max(abs(a - b) for a, b in zip(p, background)) >= 100]
    return len(near), background


def test_every_tool_with_white_and_red_text_and_counters_reaches_the_uploaded_png(desktop):  # noqa: F811
    app, notifications, tmp_path = desktop
    wait_until(tray_icon_window, 20, "tray icon embedded in trayer")
    problems: list[str] = []

    # --- hotkey -> selector -> drag -> annotator -------------------------------------------------------------
    mark = len(app.log())
    xdo("key", "ctrl+alt+s")
    app.wait_log(r"selector shown", 15, mark)
    time.sleep(0.3)
    (x0, y0), (x1, y1) = DRAG
    xdo("mousemove", str(x0), str(y0), "mousedown", "1", "mousemove", "640", "360", "mousemove", str(x1), str(y1))
    xdo("mouseup", "1")
    xdo("key", "Return")
    m = app.wait_log(r"annotator shown: image (\d+)x(\d+), canvas at (-?\d+),(-?\d+) scale ([\d.]+)", 15, mark)
    assert (int(m[1]), int(m[2])) == SIZE and float(m[5]) == 1.0, m[0]
    cx, cy = int(m[3]), int(m[4])
    canvas_box = (cx, cy, cx + SIZE[0], cy + SIZE[1])
    time.sleep(0.5)
    base = grab(canvas_box)
    snap("every-tool-01-annotator.png")

    # the palette swatches, found on a screenshot of the toolbar (between the window's top and the canvas)
    wl, wt, wr, _ = window_box("annotate")
    toolbar = (max(0, wl), max(0, wt), min(1280, wr), cy)
    screen = grab((0, 0, 1280, 720))
    swatches = find_swatches(screen, toolbar)
    screen.crop(toolbar).save(ARTIFACTS / "every-tool-02-toolbar.png")
    assert set(swatches) == set(PALETTE), f"swatches found: {swatches} in {toolbar} (every-tool-02-toolbar.png)"

    def changed(img: Image.Image, box) -> int:
        """Pixels of ``img`` in ``box`` (canvas coordinates) that differ clearly from the capture."""
        diff = ImageChops.difference(img.crop(box), base.crop(box)).convert("L")
        return count(diff.point(lambda v: 255 if v > 30 else 0).convert("1"))

    def colour(name: str) -> None:
        x, y = swatches[name]
        xdo("mousemove", str(x), str(y), "click", "1")

    def click(x: int, y: int) -> None:
        xdo("mousemove", str(cx + x), str(cy + y), "click", "1")
        time.sleep(0.15)

    # --- one of every drawing tool ------------------------------------------------------------------------------
    for key, name, points in SHAPES:
        xdo("key", key)
        colour(name)
        drag_through((cx, cy), points)
    xdo("key", "r")
    colour("white")
    drag_through((cx, cy), ERASED)
    (el, et), (er, eb) = ERASED
    erased_box = (el - 6, et - 6, er + 7, eb + 7)
    time.sleep(0.2)
    drawn = changed(grab(canvas_box), erased_box)
    assert drawn > 200, f"the rectangle for the eraser was not drawn ({drawn} changed pixels)"
    xdo("key", "x")
    click(er, (et + eb) // 2)  # on its right edge: only it is there

    # --- text in white (readable while typed) and in red -----------------------------------------------------------
    xdo("key", "t")
    colour("white")
    click(*WHITE_TEXT)
    xdo("type", "--delay", "30", "Bug is here!")
    time.sleep(0.4)
    entry_area = grab((cx + WHITE_TEXT[0] - 4, cy + WHITE_TEXT[1] - 4, cx + WHITE_TEXT[0] + 300,
                       cy + WHITE_TEXT[1] + 34))
    entry_area.save(ARTIFACTS / "every-tool-03-white-text-entry.png")
    visible, background = text_visible_in_entry(entry_area, (255, 255, 255))
    if visible < 60:
        problems.append(f"white text cannot be read while it is typed: {visible} near-white pixels stand out from "
                        f"the box's background {background} (every-tool-03-white-text-entry.png)")
    xdo("key", "Return")
    colour("red")
    click(*RED_TEXT)
    xdo("type", "--delay", "30", "and here too")
    xdo("key", "Return")

    # --- three counters -----------------------------------------------------------------------------------------
    xdo("key", "n")
    for (x, y), name in COUNTERS:
        colour(name)
        click(x, y)

    time.sleep(0.5)
    screen = grab(canvas_box)  # the canvas as the user sees it, just before the upload
    screen.save(ARTIFACTS / "every-tool-04-canvas.png")
    snap("every-tool-05-before-upload.png")

    # --- Ctrl+S -> GTK's save dialog (run on the tray's GTK thread) -> Return saves in the captures folder --------
    captures = tmp_path / "data" / "captures"  # $SNAPLARK_DATA_DIR/captures: no upload.save_dir in this config
    mark = len(app.log())
    xdo("key", "ctrl+s")
    opened = app.wait_log(r"save dialog \((\w+)\) opened in (.+) with '(Screenshot [\d-]+ [\d-]+\.png)'", 15, mark)
    dialog = wait_until(lambda: (sh("xdotool", "search", "--onlyvisible", "--name", "^Save screenshot$").split()
                                 or [None])[0], 20, "the save dialog")
    time.sleep(1.0)
    snap("every-tool-05b-save-dialog.png")
    assert opened[1] == "gtk" and Path(opened[2]) == captures, opened[0]
    xdo("windowfocus", "--sync", dialog)
    xdo("key", "Return")
    saved = wait_until(lambda: (captures / opened[3]) if (captures / opened[3]).exists() else None, 20,
                       f"{opened[3]} saved in {captures}")
    app.wait_log(r"screenshot saved to .*Screenshot", 10, mark)
    wait_until(lambda: not sh("xdotool", "search", "--onlyvisible", "--name", "^Save screenshot$").strip(), 10,
               "the save dialog closed")

    # --- Ctrl+U -> link on the clipboard -> the PNG ------------------------------------------------------------------
    before = clipboard()  # (an earlier test's link may still be there)
    xdo("key", "ctrl+u")
    link = new_link(clipboard, before, "/s/", 30, "screenshot link on the clipboard")
    url = file_of(link)  # the share page (upload.copy = "page", the default) names the PNG in og:image
    assert url.endswith(".png"), (link, url)
    body = requests.get(url, timeout=10).content
    (ARTIFACTS / "every-tool-06-uploaded.png").write_bytes(body)
    export = Image.open(io.BytesIO(body))
    assert export.format == "PNG" and export.size == SIZE
    export = export.convert("RGB")
    if Image.open(saved).convert("RGB").tobytes() != export.tobytes():
        problems.append(f"the saved {saved.name} and the uploaded PNG differ")
    wait_until(lambda: not sh("xdotool", "search", "--onlyvisible", "--name", "annotate").strip(), 10,
               "annotator closed after upload")
    snap("every-tool-07-after-upload.png")

    # the text bands hold nothing white or red before the text is typed: what the masks find there is the text
    for name, band, pred in (("white", WHITE_BAND, is_white), ("red", RED_BAND, is_red)):
        assert count(mask(base, band, pred)) == 0, f"the {name} text band is not clear in the capture: move it"
    compare_text("white text 'Bug is here!'", screen, export, WHITE_BAND, is_white, problems)
    compare_text("red text 'and here too'", screen, export, RED_BAND, is_red, problems)
    for number, ((x, y), name) in enumerate(COUNTERS, 1):
        compare_counter({"number": number, "color": PALETTE[name], "start": [x, y], "radius": COUNTER_RADIUS},
                        screen, export, problems)

    for key, name, points in SHAPES:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        box = (max(0, min(xs) - 6), max(0, min(ys) - 6), min(SIZE[0], max(xs) + 7), min(SIZE[1], max(ys) + 7))
        on_screen, exported = changed(screen, box), changed(export, box)
        if exported < 50 or on_screen < 50:  # (the canvas shows the highlighter stippled: half its pixels)
            problems.append(f"tool {key!r} ({name}) in {box}: {exported} changed pixels exported, {on_screen} on "
                            "the canvas")
    for where, img in (("export", export), ("canvas", screen)):  # the blur hid the pen's right half
        crisp, blurred = count(mask(img, PEN_CRISP, pen_red)), count(mask(img, BLURRED, pen_red))
        if crisp < 100 or blurred > 5:
            problems.append(f"{where}: {crisp} pen-red pixels where the pen is crisp, {blurred} under the blur")
    if changed(export, erased_box) or changed(screen, erased_box):
        problems.append(f"the erased rectangle {ERASED} is still there (canvas or export)")

    if problems:
        pytest.fail("\n".join(problems) + "\nscreenshots: test-artifacts/app/every-tool-*.png")
    log_text = app.log()
    assert "Traceback" not in log_text, log_text[-3000:]
