"""A hotkey field that records the combination pressed: click it, press e.g. Ctrl+Alt+S, and it shows
``<ctrl>+<alt>+s`` (the grammar's canonical spelling, :mod:`tray.config.hotkey_grammar`). Alone, Esc cancels and
Backspace turns the hotkey off (""). What the grammar refuses (Shift+1, Ctrl+Alt+F1...) is kept as pressed so the
window can show the grammar's reason.

:func:`combo_from_key` (pure) turns a Tk key event's ``keysym`` and ``state`` into the grammar's spelling. Tk reports
the character a key typed: with Shift held, the 1 key is ``exclam``; the US layout's shifted symbols are mapped back
to their key so that Shift+1 reads as ``<shift>+1`` (and is refused with the grammar's reason) instead of ``!``.

While recording, the field holds a global keyboard and pointer grab (Tk ``grab -global``): a combination another
application holds goes to us, not to it, so the Settings window can name it as taken; a click outside cancels.

Threading: Tk thread only.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger(__name__)

SHIFT, CONTROL, ALT, SUPER = 0x1, 0x4, 0x8, 0x40  # X11 modifier bits in a Tk event's state (Mod1 = Alt, Mod4)
MODIFIER_KEYSYMS = {"Shift_L", "Shift_R", "Control_L", "Control_R", "Alt_L", "Alt_R", "Meta_L", "Meta_R",
                    "Super_L", "Super_R", "Hyper_L", "Hyper_R", "ISO_Level3_Shift", "Caps_Lock", "Num_Lock"}
SHIFTED_US = {"exclam": "1", "at": "2", "numbersign": "3", "dollar": "4", "percent": "5", "asciicircum": "6",
              "ampersand": "7", "asterisk": "8", "parenleft": "9", "parenright": "0", "underscore": "-",
              "plus": "=", "braceleft": "[", "braceright": "]", "bar": "\\", "colon": ";", "quotedbl": "'",
              "less": ",", "greater": ".", "question": "/", "asciitilde": "`"}
PUNCTUATION = {"minus": "-", "equal": "=", "bracketleft": "[", "bracketright": "]", "backslash": "\\",
               "semicolon": ";", "apostrophe": "'", "comma": ",", "period": ".", "slash": "/", "grave": "`"}
NAMED = {"Return": "enter", "KP_Enter": "enter", "space": "space", "Tab": "tab", "ISO_Left_Tab": "tab",
         "Escape": "esc", "BackSpace": "backspace", "Delete": "delete", "Insert": "insert", "Home": "home",
         "End": "end", "Prior": "page_up", "Next": "page_down", "Up": "up", "Down": "down", "Left": "left",
         "Right": "right", "Print": "print_screen", "Sys_Req": "print_screen", "Pause": "pause", "Break": "pause",
         "Scroll_Lock": "scroll_lock", "Menu": "menu"}
CANCEL, CLEAR = "cancel", "clear"


def combo_from_key(keysym: str, state: int) -> str | None:
    """The grammar spelling of a key press (``<ctrl>+<alt>+s``), None for a modifier alone (keep waiting),
    :data:`CANCEL` for Esc alone, :data:`CLEAR` for Backspace alone."""
    if keysym in MODIFIER_KEYSYMS:
        return None
    mods = {name for bit, name in ((CONTROL, "ctrl"), (ALT, "alt"), (SHIFT, "shift"), (SUPER, "cmd"))
            if state & bit}
    if not mods and keysym == "Escape":
        return CANCEL
    if not mods and keysym == "BackSpace":
        return CLEAR
    if keysym in SHIFTED_US:
        key = SHIFTED_US[keysym]
        mods.add("shift")
    elif keysym in PUNCTUATION:
        key = PUNCTUATION[keysym]
    elif len(keysym) == 1 and keysym.isascii() and keysym.isalnum():
        key = keysym.lower()
    elif keysym in NAMED:
        key = f"<{NAMED[keysym]}>"
    elif keysym[:1] == "F" and keysym[1:].isdigit():
        key = f"<{keysym.lower()}>"
    else:
        key = f"<{keysym.lower()}>"  # the grammar names what it refuses (F13, unknown keys)
    order = ("ctrl", "alt", "shift", "cmd")
    return "+".join([f"<{m}>" for m in order if m in mods] + [key])


def canonical(text: str) -> str:
    """The canonical spelling when the grammar accepts ``text``, else ``text`` as it is."""
    from tray.config.hotkey_grammar import HotkeyError, canonical_hotkey

    try:
        return canonical_hotkey(text) if text else text
    except HotkeyError:
        return text


class HotkeyRecorder:
    """A read-only entry showing ``variable``; a click (or Enter/space when focused) starts recording, the next
    combination pressed is stored in ``variable``. ``on_recording(True/False)`` tells the owner (the app pauses its
    global hotkeys meanwhile, so recording Ctrl+Alt+S does not also take a screenshot)."""

    PROMPT = "Press the keys… (Esc cancels, Backspace turns it off)"

    def __init__(self, parent: Any, variable: Any, *, on_recording: Callable[[bool], None] | None = None,
                 width: int = 28):
        from tkinter import ttk

        self.variable = variable
        self.on_recording = on_recording
        self.recording = False
        self.entry = ttk.Entry(parent, width=width)
        self._show(variable.get())
        self.entry.bind("<Button-1>", self._click)
        self.entry.bind("<KeyPress>", self._key)
        self.entry.bind("<FocusOut>", lambda e: self.stop())
        variable.trace_add("write", lambda *a: None if self.recording else self._show(variable.get()))

    def _show(self, text: str) -> None:
        self.entry.state(["!readonly"])
        self.entry.delete(0, "end")
        self.entry.insert(0, text)
        self.entry.state(["readonly"])

    def start(self) -> None:
        if self.recording:
            return
        self.recording = True
        self._show(self.PROMPT)
        self.entry.focus_set()
        self._grab()
        if self.on_recording is not None:
            self.on_recording(True)

    def _grab(self) -> None:
        """Take the keyboard (and pointer) while recording: a combination another application holds (its passive
        XGrabKey) would otherwise go to that application, never reaching us, and could not be shown as taken.
        Where the grab is refused (another grab active, a Wayland compositor), recording goes on without it."""
        import tkinter as tk

        try:
            self.entry.grab_set_global()
        except tk.TclError as exc:
            log.debug("recording a hotkey without a keyboard grab: %s", exc)

    def _click(self, event: Any) -> str:
        """A click starts recording; while recording (the pointer is ours), a click outside the field cancels."""
        if not self.recording:
            self.start()
            return ""
        if not (0 <= event.x < self.entry.winfo_width() and 0 <= event.y < self.entry.winfo_height()):
            self.stop()
        return "break"

    def stop(self, value: str | None = None) -> None:
        if not self.recording:
            return
        self.recording = False
        self.entry.grab_release()
        if value is not None:
            self.variable.set(canonical(value))
        self._show(self.variable.get())
        if self.on_recording is not None:
            self.on_recording(False)

    def _key(self, event: Any) -> str:
        if not self.recording:
            if event.keysym in ("Return", "space"):
                self.start()
                return "break"
            return "" if event.keysym == "Tab" else "break"
        combo = combo_from_key(event.keysym, event.state)
        if combo is None:
            return "break"
        self.stop(None if combo == CANCEL else "" if combo == CLEAR else combo)
        return "break"
