"""Issue 12 #3: the paused control bar read "00:03 ▯ esum": a glyph no font has (U+23F8) and a clipped button.

Every text the bar shows is made of characters the font Tk actually uses has (checked with fontconfig), the
pause/stop symbols are drawn, and every widget gets at least the width it asks for, inside the bar.
Screenshots: test-artifacts/recording/paused_bar.png, recording_bar.png.
"""

from __future__ import annotations

import subprocess
import tkinter.font as tkfont

import pytest

from recording_helpers import grab_screen, pump
from tray_platform.base import Region

pytestmark = pytest.mark.e2e

REGION = Region(200, 100, 480, 300)


def has_glyph(family: str, char: str) -> bool:
    out = subprocess.run(["fc-list", f":family={family}:charset={ord(char):x}", "family"], capture_output=True,
                         text=True, timeout=10).stdout
    return bool(out.strip())


def bar_problems(control) -> list[str]:
    win = control.window
    bar_w, bar_h = win.winfo_width(), win.winfo_height()
    problems = []
    if bar_w < win.winfo_reqwidth() or bar_h < win.winfo_reqheight():
        problems.append(f"bar {bar_w}x{bar_h} smaller than its content {win.winfo_reqwidth()}x{win.winfo_reqheight()}")
    for w in win.winfo_children():
        name = f"{w.winfo_class()} {w.cget('text')!r}" if "text" in w.keys() else w.winfo_class()
        if w.winfo_width() < w.winfo_reqwidth() or w.winfo_height() < w.winfo_reqheight():
            problems.append(f"{name}: shown {w.winfo_width()}x{w.winfo_height()}, needs "
                            f"{w.winfo_reqwidth()}x{w.winfo_reqheight()} (clipped)")
        if w.winfo_x() < 0 or w.winfo_x() + w.winfo_width() > bar_w or w.winfo_y() + w.winfo_height() > bar_h:
            problems.append(f"{name}: at x={w.winfo_x()} w={w.winfo_width()} outside the {bar_w} px bar")
        if "text" in w.keys() and w.cget("text"):
            family = tkfont.Font(root=win, font=w.cget("font")).actual("family")
            missing = [f"U+{ord(c):04X} {c!r}" for c in set(w.cget("text")) if not c.isspace()
                       and not has_glyph(family, c)]
            if missing:
                problems.append(f"{name}: {family} has no glyph for {', '.join(sorted(missing))}")
    return problems


def save_bar(control, path) -> None:
    from PIL import Image

    x, y, w, h = (control.window.winfo_rootx(), control.window.winfo_rooty(), control.window.winfo_width(),
                  control.window.winfo_height())
    shot = grab_screen()
    Image.fromarray(shot[max(0, y - 12):y + h + 12, max(0, x - 12):x + w + 12]).resize(
        ((w + 24) * 2, (h + 24) * 2), Image.NEAREST).save(path)


@pytest.mark.parametrize("paused,artifact", [(True, "paused_bar.png"), (False, "recording_bar.png")])
def test_bar_texts_have_glyphs_and_every_widget_fits(make_app, pattern_screen, artifacts, paused, artifact):
    from tray.ui.recording_control import RecordingControl

    app = make_app()
    control = RecordingControl(app.root, REGION, pattern_screen.region, on_stop=lambda: None,
                               on_toggle_pause=lambda: None, elapsed=lambda: 3.4, paused=lambda: paused)
    try:
        pump(app.root, 0.5)
        save_bar(control, artifacts / artifact)
        texts = [w.cget("text") for w in control.window.winfo_children() if "text" in w.keys()]
        assert "00:03" in " ".join(texts), texts
        assert ("Resume" if paused else "Pause") in texts, texts
        problems = bar_problems(control)
        assert not problems, "\n".join(problems)
        x, y = control.window.winfo_rootx(), control.window.winfo_rooty()
        w, h = control.window.winfo_width(), control.window.winfo_height()
        assert not (x < REGION.right and REGION.left < x + w and y < REGION.bottom and REGION.top < y + h), \
            "the bar overlaps the recorded region"
    finally:
        control.close()


def test_full_screen_bar_is_shown_only_where_the_os_keeps_it_out_of_captures(make_app, pattern_screen):
    from tray.ui.recording_control import open_control

    app = make_app()
    kw = dict(on_stop=lambda: None, on_toggle_pause=lambda: None, elapsed=lambda: 0.0, paused=lambda: False)
    screen = pattern_screen.region
    assert open_control(app.root, screen, screen, exclude_from_capture=lambda win: False, **kw) is None
    excluded = open_control(app.root, screen, screen, exclude_from_capture=lambda win: True, **kw)
    try:
        x, y, w, h = excluded.geometry
        assert (x + w, y + h) == (screen.right, screen.bottom)  # the corner
    finally:
        excluded.close()
    outside = open_control(app.root, REGION, screen, exclude_from_capture=lambda win: False, **kw)
    try:
        assert outside.geometry[1] >= REGION.bottom  # below the region
    finally:
        outside.close()
