"""Known text shown on screen, for the OCR tests and ``benchmarks/ocr_engines.py``: paragraphs in several fonts,
sizes and colours drawn by Tk (Xft, as any desktop app draws them), a UI-like dialog, and the character error
rate (Levenshtein distance / reference length) of what an engine read back.

Everything here runs on the Tk thread of the caller; the samples are placed on screen at known positions so the
caller can grab or OCR the exact region.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

PARAGRAPHS = [
    "Snaplark keeps every screenshot on your disk first and uploads it afterwards. If the network drops, the "
    "upload waits and resumes by itself; nothing is lost when the laptop sleeps.",
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs! Order #4821 shipped on "
    "2026-03-14 at 09:45 and costs $129.99 (tax included).",
    "Error: connection refused while reading config.toml at line 42; check that the server URL starts with "
    "https:// and that port 8443 is open.",
    "Recording stopped after 12 minutes and 7 seconds. The file is 48.3 MB and the link was copied to your "
    "clipboard. Press Ctrl+Shift+5 to start a new one.",
    "Settings saved. Upload quality: high; keep local copies for 30 days; launch at login: enabled; language: "
    "English (United Kingdom).",
]


@dataclass(frozen=True)
class TextSample:
    name: str
    text: str
    font: tuple
    fg: str
    bg: str
    width: int = 560  # wrap width in pixels


SAMPLES = [
    TextSample("sans-14-dark-on-light", PARAGRAPHS[0], ("DejaVu Sans", -14), "#1a1a1a", "#ffffff"),
    TextSample("serif-18-dark-on-cream", PARAGRAPHS[1], ("Liberation Serif", -18), "#202020", "#f4f1e8"),
    TextSample("mono-13-light-on-dark", PARAGRAPHS[2], ("DejaVu Sans Mono", -13), "#e0e0e0", "#1e1e1e"),
    TextSample("sans-11-grey-on-grey", PARAGRAPHS[3], ("Liberation Sans", -11), "#555555", "#f0f0f0", 420),
    TextSample("sans-bold-16-white-on-blue", PARAGRAPHS[4], ("DejaVu Sans", -16, "bold"), "#ffffff", "#2f6fd6"),
]

# What the acceptance names: three paragraphs, two fonts, two sizes, dark-on-light and light-on-dark.
ACCEPTANCE = [
    TextSample("accept-sans-15-dark-on-light", PARAGRAPHS[0], ("DejaVu Sans", -15), "#111111", "#ffffff"),
    TextSample("accept-serif-20-dark-on-light", PARAGRAPHS[1], ("Liberation Serif", -20), "#222222", "#fafafa"),
    TextSample("accept-sans-15-light-on-dark", PARAGRAPHS[2], ("DejaVu Sans", -15), "#f0f0f0", "#202124"),
]

DIALOG_LINES = ["Upload settings", "Server address", "https://snap.example.org/api/v1", "Keep local copies for 30 days",
                "Copy the link after upload", "Cancel", "Save changes"]


def show_sample(root, sample: TextSample, x: int, y: int, pad: int = 16):
    """A borderless window at (x, y) showing ``sample``; returns (window, (x, y, w, h)) once it is drawn."""
    import tkinter as tk

    win = tk.Toplevel(root)
    win.overrideredirect(True)
    win.configure(background=sample.bg)
    tk.Label(win, text=sample.text, font=sample.font, fg=sample.fg, bg=sample.bg, wraplength=sample.width,
             justify="left", anchor="nw").pack(padx=pad, pady=pad)
    win.geometry(f"+{x}+{y}")
    _wait_drawn(root, win)
    return win, (win.winfo_rootx(), win.winfo_rooty(), win.winfo_width(), win.winfo_height())


def show_dialog(root, x: int, y: int):
    """A settings-dialog look-alike (title bar, labels, an entry, a check box, buttons) in one column, so the
    reading order is the list order. Returns (window, region, reference text)."""
    import tkinter as tk

    win = tk.Toplevel(root)
    win.overrideredirect(True)
    win.configure(background="#ececec")
    tk.Label(win, text=DIALOG_LINES[0], font=("DejaVu Sans", -13, "bold"), fg="#ffffff", bg="#3c3f41",
             anchor="w", padx=10, pady=6).pack(fill="x")
    body = tk.Frame(win, background="#ececec", padx=14, pady=10)
    body.pack(fill="both")
    tk.Label(body, text=DIALOG_LINES[1], font=("DejaVu Sans", -12), bg="#ececec", anchor="w").pack(fill="x")
    entry = tk.Entry(body, font=("DejaVu Sans Mono", -12), width=34, relief="solid", borderwidth=1)
    entry.insert(0, DIALOG_LINES[2])
    entry.pack(anchor="w", pady=(2, 10))
    for text in DIALOG_LINES[3:5]:
        tk.Checkbutton(body, text=text, font=("DejaVu Sans", -12), bg="#ececec", anchor="w").pack(fill="x")
    buttons = tk.Frame(body, background="#ececec")
    buttons.pack(fill="x", pady=(12, 0))
    for text in DIALOG_LINES[5:]:
        tk.Button(buttons, text=text, font=("DejaVu Sans", -12)).pack(side="left", padx=(0, 8))
    win.geometry(f"+{x}+{y}")
    _wait_drawn(root, win)
    return win, (win.winfo_rootx(), win.winfo_rooty(), win.winfo_width(), win.winfo_height()), " ".join(DIALOG_LINES)


def show_page(root, width: int, height: int, font=("DejaVu Sans", -15)):
    """A full ``width`` x ``height`` window of paragraphs (a 1080p document page). Returns (window, reference)."""
    import tkinter as tk

    win = tk.Toplevel(root)
    win.overrideredirect(True)
    win.configure(background="#ffffff")
    win.geometry(f"{width}x{height}+0+0")
    shown: list[str] = []
    y = 20
    line_height = abs(font[1]) * 1.25
    i = 0
    while True:
        text = PARAGRAPHS[i % len(PARAGRAPHS)]
        chars_per_line = (width - 60) / (abs(font[1]) * 0.6)
        lines = int(len(text) / chars_per_line) + 2
        if y + lines * line_height + 30 > height:
            break
        tk.Label(win, text=text, font=font, fg="#111111", bg="#ffffff", wraplength=width - 60, justify="left",
                 anchor="nw").place(x=30, y=y)
        shown.append(text)
        win.update_idletasks()
        y += int(lines * line_height) + 14
        i += 1
    _wait_drawn(root, win)
    return win, " ".join(shown)


def _wait_drawn(root, win, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        root.update()
        if win.winfo_viewable():
            break
        time.sleep(0.01)
    else:
        raise TimeoutError("sample window not shown")
    end = time.monotonic() + 0.15  # let the X server finish drawing
    while time.monotonic() < end:
        root.update()
        time.sleep(0.01)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(reference: str, read: str) -> float:
    """Character error rate of ``read`` against ``reference`` (whitespace runs count as one space)."""
    ref, got = normalise(reference), normalise(read)
    return edit_distance(ref, got) / max(1, len(ref))
