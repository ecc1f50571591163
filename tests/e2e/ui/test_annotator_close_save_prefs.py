"""Annotator behaviour from issue 12 #14, under Xvfb with real keys:

* Esc closes the window (after a text box or a drag has been cancelled), and so does Ctrl+W; with annotations that
  were never saved, copied or uploaded both ask first, and the answer is honoured.
* The tool, colour and width carry over to the next annotator window (a JSON file in the data dir).
* Save asks with GTK's file chooser when GTK is there -- driven here for real: it opens in the captures folder with a
  dated name, and Return saves the annotated PNG there -- and writes what the chooser answered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.procutil import need_tool
from tray import paths
from tray.ui.annotator import AnnotatorWindow
from tray.ui.annotator.tools import ToolKind

from .conftest import ARTIFACTS, pump, screenshot, xdotool
from .test_annotator import click_widget, drag
from .test_annotator_text_entry import text_box

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("save_dialog_gtk_child.py")

NOW = time.mktime((2026, 12, 6, 14, 3, 12, 0, 0, -1))
DATED = "Screenshot 2026-12-06 14-03-12.png"


class Closed:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1


def open_window(root, image=None, **kwargs):
    closed = Closed()
    win = AnnotatorWindow(root, image or Image.new("RGB", (400, 260), (255, 255, 255)), lambda png: None,
                          on_close=closed, display_scale=1.0, **kwargs)
    assert pump(root, lambda: win.window.winfo_viewable() and win.canvas.winfo_viewable(), timeout=5)
    pump(root, timeout=0.1)
    return win, closed


def draw_rectangle(root, win):
    n = len(win.document.items)
    win.select_tool(ToolKind.RECTANGLE)
    drag(root, win.canvas, [(40, 40), (160, 120)])
    assert pump(root, lambda: len(win.document.items) == n + 1, timeout=5)


def prompt(win):
    """The question over the annotator: a visible toplevel of its own, or None."""
    import tkinter as tk

    if win.closed:
        return None
    shown = [w for w in win.window.winfo_children() if isinstance(w, tk.Toplevel) and w.winfo_viewable()]
    return shown[0] if shown else None


def prompt_shown(win) -> bool:
    return prompt(win) is not None


def button(top, text: str):
    import tkinter as tk

    stack = [top]
    while stack:
        w = stack.pop()
        if isinstance(w, tk.Button) and w.cget("text") == text:
            return w
        stack.extend(w.winfo_children())
    raise AssertionError(f"no {text!r} button in {top}")


# -- Esc / Ctrl+W -------------------------------------------------------------------------------------------------
def test_escape_closes_an_untouched_annotator(tk_root):
    win, closed = open_window(tk_root)
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: win.closed, timeout=5), "Esc did not close the annotator"
    assert closed.count == 1


def test_escape_first_cancels_the_text_box_then_closes(tk_root):
    win, closed = open_window(tk_root)
    win.select_tool(ToolKind.TEXT)
    ox, oy = win.canvas.winfo_rootx(), win.canvas.winfo_rooty()
    xdotool(tk_root, "mousemove", str(ox + 50), str(oy + 50), "click", "1")
    assert pump(tk_root, lambda: text_box(win) is not None, timeout=5)
    xdotool(tk_root, "type", "draft")
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: text_box(win) is None, timeout=5)
    assert not win.closed and win.document.items == []
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: win.closed, timeout=5)


def test_escape_and_ctrl_w_ask_before_discarding_annotations(tk_root):
    win, closed = open_window(tk_root)
    draw_rectangle(tk_root, win)

    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: prompt_shown(win), timeout=5), "Esc closed (or did nothing) without asking"
    assert not win.closed
    from tray.ui.annotator.close_prompt import PROMPT_TITLE

    title = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", PROMPT_TITLE], capture_output=True,
                           text=True, timeout=10).stdout.split()
    assert title, "the question is not a visible window"
    (ARTIFACTS / "annotator").mkdir(parents=True, exist_ok=True)
    path = screenshot("annotator/close-prompt")
    xdotool(tk_root, "key", "Escape")  # = keep editing
    assert pump(tk_root, lambda: not prompt_shown(win), timeout=5)
    assert not win.closed and len(win.document.items) == 1 and closed.count == 0, path

    xdotool(tk_root, "key", "ctrl+w")
    assert pump(tk_root, lambda: prompt_shown(win), timeout=5), "Ctrl+W closed (or did nothing) without asking"
    xdotool(tk_root, "key", "Return")  # = discard
    assert pump(tk_root, lambda: win.closed, timeout=5)
    assert closed.count == 1


def test_window_close_button_asks_too_and_keep_editing_keeps_the_window(tk_root):
    win, closed = open_window(tk_root)
    draw_rectangle(tk_root, win)
    win.window.tk.eval(win.window.protocol("WM_DELETE_WINDOW"))  # what the window manager's close button runs
    assert pump(tk_root, lambda: prompt_shown(win), timeout=5)
    click_widget(tk_root, button(prompt(win), "Keep editing"))
    assert pump(tk_root, lambda: not prompt_shown(win), timeout=5) and not win.closed
    win.close()


def test_nothing_is_asked_after_copy_or_save_until_the_next_change(tk_root):
    copies: list[bytes] = []
    saves: list[bytes] = []
    win = AnnotatorWindow(tk_root, Image.new("RGB", (400, 260), (255, 255, 255)), lambda png: None,
                          on_copy=copies.append, on_save=saves.append, display_scale=1.0)
    assert pump(tk_root, lambda: win.canvas.winfo_viewable(), timeout=5)
    draw_rectangle(tk_root, win)
    xdotool(tk_root, "key", "ctrl+c")
    assert pump(tk_root, lambda: bool(copies), timeout=5)
    draw_rectangle(tk_root, win)  # a change after the copy: unsaved again
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: prompt_shown(win), timeout=5), "a change made after the copy was not asked about"
    xdotool(tk_root, "key", "Escape")  # keep editing
    assert pump(tk_root, lambda: not prompt_shown(win), timeout=5)
    xdotool(tk_root, "key", "ctrl+s")
    assert pump(tk_root, lambda: bool(saves), timeout=5)
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: win.closed, timeout=5), "asked (or stayed open) although everything was saved"
    assert not prompt_shown(win)


# -- remembered tool, colour, width -------------------------------------------------------------------------------
def test_tool_colour_and_width_carry_over_to_the_next_window(tk_root):
    from tray.ui.annotator.prefs import AnnotatorPrefsStore

    store = AnnotatorPrefsStore()  # the default place: $SNAPLARK_DATA_DIR (a temporary dir in tests)
    assert store.path == paths.data_dir() / "annotator.json"
    first, _ = open_window(tk_root, prefs=store)
    assert first.tool_kind is ToolKind.ARROW and first.style.color == "#e53935" and first.style.width == 4
    click_widget(tk_root, first.tool_buttons[ToolKind.HIGHLIGHTER])
    click_widget(tk_root, first.swatches["#1e88e5"])
    first.width_box.delete(0, "end")
    first.width_box.insert(0, "9")
    first.width_box.focus_set()
    xdotool(tk_root, "key", "Return")
    assert first.style.width == 9
    click_widget(tk_root, first.tool_buttons[ToolKind.ERASER])  # a one-off: not where the next window starts
    xdotool(tk_root, "key", "Escape")
    assert pump(tk_root, lambda: first.closed, timeout=5)

    second, _ = open_window(tk_root, prefs=store)
    assert (second.tool_kind, second.style.color, second.style.width) == (ToolKind.HIGHLIGHTER, "#1e88e5", 9)
    # and the toolbar shows it: the highlighter button and the blue swatch are the selected ones, width 9
    assert second.toolbar.shown_tool == "highlighter" and second.toolbar.shown_color == "#1e88e5"
    assert second.width_box.get() == "9"
    drag(tk_root, second.canvas, [(40, 200), (300, 200)])
    assert pump(tk_root, lambda: len(second.document.items) == 1, timeout=5)
    item = second.document.items[0]
    assert (item.kind, item.style.color, item.style.width) == (ToolKind.HIGHLIGHTER, "#1e88e5", 9)
    assert not paths.config_file().exists(), "remembered in config.toml"
    second.close()


# -- Save ---------------------------------------------------------------------------------------------------------
class RecordingChooser:
    name = "recording"

    def __init__(self, answer):
        self.answer = answer
        self.asked: list[tuple] = []

    def ask(self, parent, folder, filename, on_done):
        self.asked.append((parent, folder, filename))
        on_done(self.answer(folder, filename))


def test_save_asks_in_the_captures_folder_with_a_dated_name_and_writes_there(tk_root, tmp_path):
    chooser = RecordingChooser(lambda folder, name: folder / name)
    win, _ = open_window(tk_root, save_chooser=chooser, clock=lambda: NOW)
    draw_rectangle(tk_root, win)
    xdotool(tk_root, "key", "ctrl+s")
    assert pump(tk_root, lambda: bool(chooser.asked), timeout=5)
    parent, folder, name = chooser.asked[0]
    assert parent is win.window
    assert folder == paths.captures_dir() and folder.is_dir()
    assert name == DATED
    saved = folder / DATED
    assert saved.read_bytes() == win.export_png()
    assert "Saved" in win.status.cget("text")

    other = tmp_path / "chosen"  # a save_dir given by the app (upload.save_dir) wins; a cancel writes nothing
    cancel = RecordingChooser(lambda folder, name: None)
    win2, _ = open_window(tk_root, save_chooser=cancel, save_dir=other, clock=lambda: NOW)
    draw_rectangle(tk_root, win2)
    win2.save()
    assert cancel.asked[0][1] == other and other.is_dir() and list(other.iterdir()) == []
    win2.request_close()  # a cancelled save saved nothing: closing still asks
    assert pump(tk_root, lambda: prompt_shown(win2), timeout=5)
    win.close()
    win2.close()




def test_save_uses_the_gtk_chooser_which_opens_in_the_captures_folder_with_the_dated_name(xvfb, dbus_session,
                                                                                           tmp_path):
    """The real GTK dialog, in a child process (save_dialog_gtk_child.py says why): Ctrl+S shows GTK's chooser,
    and Return alone saves the annotated PNG as the captures folder/'Screenshot 2026-12-06 14-03-12.png' -- so
    that is the folder and the name it proposed."""
    from tray.ui.annotator.save_chooser import DIALOG_TITLE

    need_tool("xdotool")
    env = dict(os.environ, NO_AT_BRIDGE="1", DBUS_SESSION_BUS_ADDRESS=dbus_session)
    env.pop("SNAPLARK_SAVE_DIALOG", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "platform"), str(REPO / "server")]
                                        + [p for p in [env.get("PYTHONPATH")] if p])
    probe = subprocess.run([sys.executable, "-c", "from tray.ui.annotator.save_chooser import GtkSaveChooser as G;"
                            " G.load()"], env=env, capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"GTK 3 through PyGObject is not usable here: {probe.stderr.strip().splitlines()[-1:]}")
    out = tmp_path / "child"
    proc = subprocess.run([sys.executable, str(CHILD), str(out), str(NOW)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    info = json.loads((out / "info.json").read_text())
    artifact = ARTIFACTS / "annotator" / "save-dialog-gtk.png"
    if (out / "dialog.png").exists():
        artifact.parent.mkdir(parents=True, exist_ok=True)
        artifact.write_bytes((out / "dialog.png").read_bytes())

    assert info["dialog_shown"], f"no '{DIALOG_TITLE}' window after Ctrl+S: {info}\n{proc.stderr[-2000:]}"
    assert info["chooser"] == "gtk" and info["gtk_loaded"], info
    expected = str(Path(info["captures_dir"]) / DATED)
    assert info["captures_dir"] == str(paths.captures_dir())  # the child saw this test's data dir
    assert info["saved"] == [expected], f"Return in the GTK dialog saved {info['saved']}, not {expected} ({artifact})"
    assert info["export_matches"] == [True], "the saved file is not the annotated PNG"
    assert info["status"] == f"Saved {expected}" and info["dialog_gone"], info
