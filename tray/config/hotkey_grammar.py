"""THE hotkey grammar: parsing and validation of a ``[hotkeys]`` setting (pure Python, no display).

One grammar, used everywhere: config validation (:func:`tray.config.validation.v_hotkey`, at load and at
``snaplark config set``), duplicate detection, and registration (:class:`tray.ui.hotkeys.GlobalHotkeys`) all call
:func:`parse_hotkey`, which turns a setting into a :class:`Hotkey` whose :meth:`Hotkey.pynput` string is what pynput's
``GlobalHotKeys`` gets -- or raises :class:`HotkeyError` naming the setting and the problem. It lives with the settings
(not with registration in ``tray.ui``) so that ``tray.config`` needs nothing from the UI; ``tray.ui.hotkeys``
re-exports every name for its callers. A bad value is reported with the setting's name before anything is registered.

Spellings (case-insensitive; spaces around ``+`` are ignored): the README's ``Ctrl+Alt+S`` and pynput's
``<ctrl>+<alt>+s`` are the same hotkey, canonical form ``<ctrl>+<alt>+s``. Modifiers: Ctrl/Control, Alt/Option,
Shift, Super/Win/Cmd/Command (one modifier, "cmd" in pynput); ``_l``/``_r`` variants mean the same modifier. Named
keys: F1..F12, Space, Enter/Return, Tab, Esc/Escape, Backspace, Delete/Del, Insert/Ins, Home, End, Page_Up/PgUp,
Page_Down/PgDn, Up, Down, Left, Right, Print/Print_Screen/PrtSc, Pause, Scroll_Lock, Menu and pynput's media keys
(``media_play_pause`` ...); with or without angle brackets. Other keys: one letter, digit or unshifted punctuation
character (``- = [ ] \\ ; ' , . / ` ``); ``S`` means the S key, not Shift+S.

Rules (each refusal explains itself). Under Xvfb, each kind of accepted key fires and the X11 refusals below really
never fire (``tests/e2e/desktop/test_desktop_hotkey_grammar.py``):

* exactly one key besides the modifiers; no modifier twice;
* a letter/digit/punctuation/navigation key needs Ctrl, Alt or Super: a plain or Shift-only key would take over
  normal typing. Only F1..F12, Print Screen, Pause, Scroll Lock and the media play/next/previous keys may stand alone
  (they type nothing; Print is the usual screenshot key). pynput listens without grabbing, so the focused
  application sees the key too;
* Shift + digit/punctuation is refused: Shift turns the key into another character ('!' for 1, layout-dependent)
  and pynput matches that character, so the hotkey never fires. Characters typed with Shift (``! @ + ?`` ...) are
  refused for the same reason. Shift + Tab/Print/Pause/media key is refused too: on X11 Shift turns them into
  other keysyms (ISO_Left_Tab, Sys_Req, Break...);
* exactly Ctrl+Alt + F1..F12 is refused: on Linux these switch to a text console (X reports XF86Switch_VT_n);
* Ctrl+Alt+Delete and Ctrl+Alt+Backspace are reserved by the system; AltGr, Caps Lock, Num Lock, F13+ and
  virtual key codes (``<65>``) are refused with the reason;
* the same combination for two settings is refused, naming both (compared in canonical form).

Threading: the parsing functions are pure and thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

# spelling (lower case) -> modifier (pynput's generic modifier name)
MODIFIERS = {
    "ctrl": "ctrl", "control": "ctrl", "ctrl_l": "ctrl", "ctrl_r": "ctrl",
    "alt": "alt", "option": "alt", "alt_l": "alt", "alt_r": "alt",
    "shift": "shift", "shift_l": "shift", "shift_r": "shift",
    "cmd": "cmd", "command": "cmd", "super": "cmd", "win": "cmd", "cmd_l": "cmd", "cmd_r": "cmd",
    "super_l": "cmd", "super_r": "cmd",
}
MOD_ORDER = ("ctrl", "alt", "shift", "cmd")
F_KEYS = tuple(f"f{i}" for i in range(1, 13))
# spelling (lower case, '_' for spaces/dashes) -> named key (pynput.keyboard.Key member name)
NAMED_KEYS = {
    **{f: f for f in F_KEYS},
    "space": "space", "enter": "enter", "return": "enter", "tab": "tab", "esc": "esc", "escape": "esc",
    "backspace": "backspace", "delete": "delete", "del": "delete", "insert": "insert", "ins": "insert",
    "home": "home", "end": "end", "page_up": "page_up", "pageup": "page_up", "pgup": "page_up",
    "page_down": "page_down", "pagedown": "page_down", "pgdn": "page_down",
    "up": "up", "down": "down", "left": "left", "right": "right",
    "print": "print_screen", "print_screen": "print_screen", "printscreen": "print_screen", "prtsc": "print_screen",
    "prtscr": "print_screen", "pause": "pause", "scroll_lock": "scroll_lock", "scrolllock": "scroll_lock",
    "menu": "menu",
    "media_play_pause": "media_play_pause", "media_next": "media_next", "media_previous": "media_previous",
    "media_volume_up": "media_volume_up", "media_volume_down": "media_volume_down",
    "media_volume_mute": "media_volume_mute",
}
# keys that may be used without Ctrl/Alt/Super (they type no text)
STANDALONE_OK = frozenset(F_KEYS) | {"print_screen", "pause", "scroll_lock", "media_play_pause", "media_next",
                                     "media_previous"}
# named keys that Shift turns into another keysym on X11 (Tab -> ISO_Left_Tab, Print -> Sys_Req, Pause -> Break)
SHIFT_CHANGES = frozenset({"tab", "print_screen", "pause", "media_play_pause", "media_next", "media_previous",
                           "media_volume_up", "media_volume_down", "media_volume_mute"})
UNSHIFTED_SYMBOLS = frozenset("`-=[]\\;',./")
SHIFTED_SYMBOLS = frozenset('~!@#$%^&*()_+{}|:"<>?')
REFUSED_NAMES = {
    "alt_gr": "AltGr changes the character a key types (like Shift), so the hotkey would not fire; use Alt",
    "altgr": "AltGr changes the character a key types (like Shift), so the hotkey would not fire; use Alt",
    "caps_lock": "Caps Lock would toggle every time the hotkey is pressed (the key is not taken away from the "
                 "desktop); use a letter or an F-key",
    "num_lock": "Num Lock would toggle every time the hotkey is pressed (the key is not taken away from the "
                "desktop); use a letter or an F-key",
    **{f"f{i}": "F13 and above did not fire on X11 in our tests (pynput); use F1..F12" for i in range(13, 25)},
}
RESERVED = {
    (frozenset({"ctrl", "alt"}), "delete"): "Ctrl+Alt+Delete is reserved by the system (security screen / log-out "
                                            "dialog)",
    (frozenset({"ctrl", "alt"}), "backspace"): "Ctrl+Alt+Backspace is reserved: it kills the X server where enabled",
}
EXAMPLE = "e.g. Ctrl+Alt+S or <ctrl>+<alt>+s"
DISPLAY_NAMES = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "cmd": "Cmd"}


class HotkeyError(ValueError):
    """A hotkey setting that cannot be used. ``setting`` is e.g. ``hotkeys.capture_region``; ``reason`` is the
    problem alone (what ``tray.config`` shows after ``key = value:``)."""

    def __init__(self, setting: str, value: Any, reason: str) -> None:
        super().__init__(f"{setting} = {value!r}: {reason}")
        self.setting = setting
        self.value = value
        self.reason = reason


@dataclass(frozen=True)
class Hotkey:
    setting: str
    modifiers: frozenset[str]
    key: str  # a single character (lower case) or a NAMED_KEYS value

    def pynput(self) -> str:
        """Canonical form = the pynput ``GlobalHotKeys`` string, e.g. ``<ctrl>+<alt>+s``."""
        mods = [f"<{m}>" for m in MOD_ORDER if m in self.modifiers]
        key = self.key if len(self.key) == 1 else f"<{self.key}>"
        return "+".join(mods + [key])

    def display(self, os_name: str = "linux") -> str:
        """For people, e.g. ``Ctrl+Alt+S``; parses back to the same hotkey."""
        names = dict(DISPLAY_NAMES)
        if os_name != "macos":
            names["cmd"] = "Super" if os_name == "linux" else "Win"
        mods = [names[m] for m in MOD_ORDER if m in self.modifiers]
        if len(self.key) == 1:
            key = self.key.upper()
        elif self.key in F_KEYS:
            key = self.key.upper()
        else:
            key = self.key.replace("_", " ").title()
        return "+".join(mods + [key])

    @property
    def combo(self) -> tuple[frozenset[str], str]:
        return self.modifiers, self.key


def parse_hotkey(setting: str, value: Any) -> Hotkey:
    """Parse and validate one setting (the one grammar); raises ``HotkeyError`` naming the setting and the problem.

    ``""`` (hotkey turned off) is not a hotkey: callers skip it (see :func:`parse_hotkeys`)."""

    def refuse(reason: str) -> HotkeyError:
        return HotkeyError(setting, value, reason)

    if not isinstance(value, str):
        raise refuse(f"expected a string like 'Ctrl+Alt+S', got {type(value).__name__}")
    if not value.strip():
        raise refuse(f"empty; write a combination ({EXAMPLE}), or exactly \"\" to turn the hotkey off")
    parts = _split(value)
    if parts is None:
        raise refuse(f"ends with '+': the key after the modifiers is missing ({EXAMPLE})")
    modifiers: set[str] = set()
    keys: list[str] = []
    for raw in parts:
        token = raw.strip()
        if not token:
            raise refuse(f"has an empty part between '+' signs ({EXAMPLE})")
        kind, name = _token(token, refuse)
        if kind == "modifier":
            if name in modifiers:
                raise refuse(f"{DISPLAY_NAMES[name]} is given twice")
            modifiers.add(name)
        else:
            keys.append(name)
    if not keys:
        raise refuse(f"only modifiers: add the key to press ({EXAMPLE})")
    if len(keys) > 1:
        raise refuse(f"more than one key besides the modifiers ({', '.join(keys)}): a hotkey is modifiers plus "
                     "one key")
    key = keys[0]
    mods = frozenset(modifiers)
    hotkey = Hotkey(setting, mods, key)
    if key not in STANDALONE_OK and not mods & {"ctrl", "alt", "cmd"}:
        raise refuse("needs Ctrl, Alt or Super (Win/Cmd): a plain or Shift-only key would take over normal typing "
                     "(only F1..F12, Print, Pause, Scroll Lock and the media keys may be used alone)")
    if "shift" in mods and len(key) == 1 and not key.isalpha():
        raise refuse(f"Shift+{key} never fires: on X11 (and with pynput on Windows and macOS too) Shift turns the "
                     "key into another character ('!' for 1 on a US keyboard; it depends on the layout) and the "
                     f"hotkey listener matches that character; drop Shift, or use a letter or an F-key ({EXAMPLE})")
    if "shift" in mods and key in SHIFT_CHANGES:
        raise refuse(f"Shift+{hotkey.display().rsplit('+', 1)[-1]} never fires on X11: Shift turns the key into "
                     "another one (Tab -> ISO_Left_Tab, Print -> Sys_Req, Pause -> Break); use the key without "
                     "Shift")
    if mods == {"ctrl", "alt"} and key in F_KEYS:
        raise refuse(f"Ctrl+Alt+{key.upper()} switches to a text console on Linux (the X server reports "
                     f"XF86Switch_VT_{key[1:]} instead), so it never fires; use Alt+{key.upper()}, "
                     f"Super+{key.upper()} or Ctrl+Shift+{key.upper()}")
    reserved = RESERVED.get((mods, key))
    if reserved:
        raise refuse(reserved)
    return hotkey


def canonical_hotkey(value: str) -> str:
    """The canonical (pynput) spelling of ``value``; raises ``HotkeyError`` like :func:`parse_hotkey`."""
    return parse_hotkey("hotkey", value).pynput()


def _token(token: str, refuse: Callable[[str], HotkeyError]) -> tuple[str, str]:
    """('modifier', name) or ('key', name) for one part of a combination."""
    bracketed = len(token) > 2 and token[0] == "<" and token[-1] == ">"
    text = token[1:-1].strip() if bracketed else token
    if token == "<>":
        raise refuse(f"'<>' is an empty key name ({EXAMPLE})")
    if len(text) == 1:
        ch = text.lower()
        if ch.isalpha() or ch.isdigit() and ch.isascii() or ch in UNSHIFTED_SYMBOLS:
            return "key", ch
        if ch in SHIFTED_SYMBOLS:
            raise refuse(f"'{ch}' is typed with Shift, and Shift changes the character the hotkey listener sees, "
                         f"so the hotkey would not fire reliably; use a letter, a digit or an F-key ({EXAMPLE})")
        raise refuse(f"{ch!r} cannot be a hotkey key; use a letter, a digit, an F-key or a named key ({EXAMPLE})")
    name = text.lower().replace(" ", "_").replace("-", "_")
    if name in MODIFIERS:
        return "modifier", MODIFIERS[name]
    if name in NAMED_KEYS:
        return "key", NAMED_KEYS[name]
    if name in REFUSED_NAMES:
        raise refuse(REFUSED_NAMES[name])
    if name.isdigit():
        raise refuse(f"virtual key codes like {token} are not supported; write the key itself ({EXAMPLE})")
    raise refuse(f"unknown key {token!r} (modifiers: Ctrl, Alt, Shift, Super/Win/Cmd; keys: one letter, digit or "
                 "symbol, F1..F12, Space, Enter, Tab, Esc, Backspace, Delete, Insert, Home, End, Page_Up, Page_Down, "
                 f"Up, Down, Left, Right, Print, Pause, Scroll_Lock, Menu, media_play_pause...; {EXAMPLE})")


def _split(text: str) -> list[str] | None:
    """Split like pynput's ``HotKey.parse``: a '+' right after a separator is the '+' key itself ('<ctrl>++');
    None when the text ends with a separating '+'."""
    parts: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == "+" and text[start:i].strip():
            parts.append(text[start:i])
            start = i + 1
    if not text[start:].strip():
        return None if parts else [text[start:]]
    parts.append(text[start:])
    return parts


def parse_hotkeys(settings: dict[str, Any], *, section: str = "hotkeys",
                  defaults: Iterable[str] = ()) -> tuple[dict[str, Hotkey], list[HotkeyError]]:
    """Validate every setting (name -> value, in order); returns (valid by name, errors). ``""``/None = turned off.

    Duplicates are compared in canonical form; the later setting is refused, naming the earlier one. ``defaults``
    names settings that hold their default value (not written by the user): the message says so."""
    defaults = set(defaults)
    valid: dict[str, Hotkey] = {}
    errors: list[HotkeyError] = []
    seen: dict[tuple, str] = {}
    for name, value in settings.items():
        setting = f"{section}.{name}"
        if value in ("", None):
            continue  # turned off on purpose
        try:
            hk = parse_hotkey(setting, value)
        except HotkeyError as exc:
            errors.append(exc)
            continue
        if hk.combo in seen:
            first = seen[hk.combo]
            whose = f"{section}.{first}" + (" (its default)" if first in defaults else "")
            errors.append(HotkeyError(setting, value, f"{hk.pynput()} is already used by {whose}; give each "
                                                      "action its own combination (\"\" turns one off)"))
            continue
        seen[hk.combo] = name
        valid[name] = hk
    return valid, errors

