"""Global hotkeys: parsing/validation of the ``[hotkeys]`` settings and registration with pynput.

Config strings use pynput's syntax: ``"<ctrl>+<alt>+s"``, ``"<cmd>+<shift>+4"``, ``"<f9>"``. Parsing is done here
(pure Python, no display) so a bad value is reported with the setting's name before anything is registered:
``HotkeyError: hotkeys.capture_region = '<ctrl>+<alt>+': ends with '+' ...``.

Rules: exactly one non-modifier key; letters/digits/symbols need at least one of Ctrl/Alt/Cmd (a bare letter or
Shift+letter would swallow normal typing); F-keys and a few special keys may stand alone. On X11, Shift+digit is
refused: the X server reports the shifted keysym ('!' for 1, ...) so pynput never matches it. The same combination
for two settings is refused.

Registration (``GlobalHotkeys.start``): every valid hotkey is registered with one pynput ``GlobalHotKeys`` listener;
invalid ones and ones another X client has already grabbed are reported through ``on_problem`` (once each) -- the
valid ones still work. Detecting a foreign grab uses the platform adapter (X11: a test ``XGrabKey`` that fails with
BadAccess); pynput itself listens through XRecord and would still fire, but the other application reacts too.

Threading: pynput calls back on its listener thread; callbacks only ``post`` the command to the UI dispatcher.
``start``/``stop`` from the main thread.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]

MODIFIERS = {
    "ctrl": "ctrl", "ctrl_l": "ctrl", "ctrl_r": "ctrl", "control": "ctrl",
    "alt": "alt", "alt_l": "alt", "alt_r": "alt", "alt_gr": "alt_gr", "option": "alt",
    "shift": "shift", "shift_l": "shift", "shift_r": "shift",
    "cmd": "cmd", "cmd_l": "cmd", "cmd_r": "cmd", "super": "cmd", "win": "cmd",
}
# non-modifier named keys pynput knows (pynput.keyboard.Key)
SPECIAL_KEYS = {
    "backspace", "caps_lock", "delete", "down", "end", "enter", "esc", "home", "left", "page_down", "page_up",
    "right", "space", "tab", "up", "insert", "menu", "num_lock", "pause", "print_screen", "scroll_lock",
    "media_play_pause", "media_volume_mute", "media_volume_down", "media_volume_up", "media_previous",
    "media_next",
} | {f"f{i}" for i in range(1, 21)}
# keys that may be used without Ctrl/Alt/Cmd (they do not type text)
STANDALONE_OK = {f"f{i}" for i in range(1, 21)} | {"print_screen", "pause", "scroll_lock", "insert",
                                                     "media_play_pause", "media_next", "media_previous"}
SHIFTED_DIGIT_SYMBOLS = set("!@#$%^&*()")
DISPLAY_NAMES = {"ctrl": "Ctrl", "alt": "Alt", "alt_gr": "AltGr", "shift": "Shift", "cmd": "Cmd"}
MOD_ORDER = ("ctrl", "alt", "alt_gr", "shift", "cmd")


class HotkeyError(ValueError):
    """A hotkey setting that cannot be used. ``setting`` is e.g. ``hotkeys.capture_region``."""

    def __init__(self, setting: str, value: str, reason: str) -> None:
        super().__init__(f"{setting} = {value!r}: {reason}")
        self.setting = setting
        self.value = value
        self.reason = reason


@dataclass(frozen=True)
class Hotkey:
    setting: str
    modifiers: frozenset[str]
    key: str  # a single character (lower case) or a SPECIAL_KEYS name

    def pynput(self) -> str:
        """Canonical pynput string, e.g. ``<ctrl>+<alt>+s``."""
        mods = [f"<{m}>" for m in MOD_ORDER if m in self.modifiers]
        key = f"<{self.key}>" if self.key in SPECIAL_KEYS else self.key
        return "+".join(mods + [key])

    def display(self, os_name: str = "linux") -> str:
        names = dict(DISPLAY_NAMES)
        if os_name != "macos":
            names["cmd"] = "Super" if os_name == "linux" else "Win"
        mods = [names[m] for m in MOD_ORDER if m in self.modifiers]
        key = self.key.upper() if len(self.key) == 1 else self.key.replace("_", " ").title()
        if self.key.startswith("f") and self.key[1:].isdigit():
            key = self.key.upper()
        return "+".join(mods + [key])

    @property
    def combo(self) -> tuple[frozenset[str], str]:
        return self.modifiers, self.key


def parse_hotkey(setting: str, value: Any, *, os_name: str = "linux", x11: bool | None = None) -> Hotkey:
    """Parse and validate one setting; raises ``HotkeyError`` naming the setting."""
    if x11 is None:
        x11 = os_name == "linux"
    if not isinstance(value, str) or not value.strip():
        raise HotkeyError(setting, str(value), "empty; use a combination like '<ctrl>+<alt>+s'")
    text = value.strip().lower()
    tokens = _split(text)
    if tokens[-1] == "":
        raise HotkeyError(setting, value, "ends with '+': the key after the modifiers is missing")
    if any(t == "" for t in tokens):
        raise HotkeyError(setting, value, "has an empty part between '+' signs")
    modifiers: set[str] = set()
    keys: list[str] = []
    for token in tokens:
        if token.startswith("<") and token.endswith(">") and len(token) > 2:
            name = token[1:-1]
            if name in MODIFIERS:
                mod = MODIFIERS[name]
                if mod in modifiers:
                    raise HotkeyError(setting, value, f"modifier <{name}> is given twice")
                modifiers.add(mod)
            elif name in SPECIAL_KEYS:
                keys.append(name)
            elif len(name) == 1:
                keys.append(name)
            else:
                known = ", ".join(sorted(set(MODIFIERS) | SPECIAL_KEYS - {f"f{i}" for i in range(2, 21)}))
                raise HotkeyError(setting, value, f"unknown key <{name}> (known: {known}, f1..f20)")
        elif token in MODIFIERS or token in SPECIAL_KEYS:
            raise HotkeyError(setting, value, f"write named keys in angle brackets: <{token}>")
        elif len(token) == 1:
            keys.append(token)
        else:
            raise HotkeyError(setting, value, f"{token!r} is not a single key; named keys go in angle brackets")
    if not keys:
        raise HotkeyError(setting, value, "only modifiers; add the key to press, e.g. '+s'")
    if len(keys) > 1:
        raise HotkeyError(setting, value, f"more than one non-modifier key ({', '.join(keys)}); use one key")
    key = keys[0]
    if key not in STANDALONE_OK and not (modifiers & {"ctrl", "alt", "alt_gr", "cmd"}):
        raise HotkeyError(setting, value, "needs Ctrl, Alt or Cmd/Super: a plain or Shift-only key would "
                                          "take over normal typing")
    if x11 and "shift" in modifiers and (key.isdigit() or key in SHIFTED_DIGIT_SYMBOLS):
        raise HotkeyError(setting, value, "Shift+digit cannot work on X11: the X server reports the shifted "
                                          "symbol (e.g. '!' for 1, which depends on the keyboard layout), so "
                                          "the hotkey never fires; use a letter or an F-key, e.g. "
                                          "'<ctrl>+<alt>+s'")
    return Hotkey(setting, frozenset(modifiers), key)


def _split(text: str) -> list[str]:
    """Split like pynput's ``HotKey.parse``: a '+' right after a separator is the '+' key ('<ctrl>++')."""
    parts: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == "+" and i != start:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_hotkeys(settings: dict[str, str], *, section: str = "hotkeys", os_name: str = "linux",
                  x11: bool | None = None) -> tuple[dict[str, Hotkey], list[HotkeyError]]:
    """Validate every setting; returns (valid by name, errors). Duplicates: the later setting is refused."""
    valid: dict[str, Hotkey] = {}
    errors: list[HotkeyError] = []
    seen: dict[tuple, str] = {}
    for name, value in settings.items():
        setting = f"{section}.{name}"
        if value in ("", None):
            continue  # disabled on purpose
        try:
            hk = parse_hotkey(setting, value, os_name=os_name, x11=x11)
        except HotkeyError as exc:
            errors.append(exc)
            continue
        if hk.combo in seen:
            errors.append(HotkeyError(setting, value, f"same combination as {seen[hk.combo]}"))
            continue
        seen[hk.combo] = setting
        valid[name] = hk
    return valid, errors


@dataclass
class HotkeyProblem:
    setting: str
    value: str
    message: str


class GlobalHotkeys:
    """Registers ``bindings`` (setting name -> (config string, command)) with pynput.

    ``start()`` returns the problems (also sent to ``on_problem``); ``registered`` lists what is active.
    """

    def __init__(self, bindings: dict[str, tuple[str, Callable[[], None]]], post: Post, *,
                 on_problem: Callable[[HotkeyProblem], None] | None = None, os_name: str | None = None,
                 adapter: Any = None, check_grabs: bool = True) -> None:
        self.bindings = bindings
        self.post = post
        self.on_problem = on_problem
        self._os = os_name
        self._adapter = adapter
        self.check_grabs = check_grabs
        self.registered: dict[str, Hotkey] = {}
        self.problems: list[HotkeyProblem] = []
        self._listener: Any = None

    def _os_name(self) -> str:
        if self._os is None:
            from tray_platform.base import current_os

            self._os = current_os()
        return self._os

    def _platform(self) -> Any:
        if self._adapter is None:
            self._adapter = importlib.import_module(f"tray_platform.{self._os_name()}.hotkeys")
        return self._adapter

    def start(self) -> list[HotkeyProblem]:
        adapter = self._platform()
        x11 = getattr(adapter, "is_x11", lambda: False)()
        valid, errors = parse_hotkeys({k: v for k, (v, _) in self.bindings.items()}, os_name=self._os_name(),
                                      x11=x11)
        problems = [HotkeyProblem(e.setting, e.value, str(e)) for e in errors]
        warning = getattr(adapter, "session_warning", lambda: None)()
        if warning and valid:
            problems.append(HotkeyProblem("hotkeys", "", f"hotkeys: {warning}"))
        if self.check_grabs and valid:
            try:
                taken = adapter.find_grab_conflicts(list(valid.values()))
            except Exception as exc:  # noqa: BLE001 - the check is advisory
                log.debug("grab conflict check failed: %s", exc)
                taken = {}
            for name, hk in list(valid.items()):
                if hk.setting in taken:
                    problems.append(HotkeyProblem(hk.setting, self.bindings[name][0],
                                                  f"{hk.setting} = {self.bindings[name][0]!r}: {hk.display()} is "
                                                  f"already taken by another application ({taken[hk.setting]}); "
                                                  "both would react. Choose another combination."))
                    del valid[name]
        mapping = {}
        for name, hk in valid.items():
            command = self.bindings[name][1]
            mapping[hk.pynput()] = self._poster(command)
        if mapping:
            try:
                self._listener = adapter.start_listener(mapping)
            except Exception as exc:  # noqa: BLE001 - e.g. no X server, macOS accessibility not granted
                for name, hk in valid.items():
                    problems.append(HotkeyProblem(hk.setting, self.bindings[name][0],
                                                  f"global hotkeys unavailable: {type(exc).__name__}: {exc}"))
                valid = {}
        self.registered = valid
        self.problems = problems
        for problem in problems:
            log.warning("hotkey problem: %s", problem.message)
            if self.on_problem is not None:
                self.on_problem(problem)
        return problems

    def _poster(self, command: Callable[[], None]) -> Callable[[], None]:
        return lambda: self.post(command)

    def stop(self, timeout: float = 5.0) -> None:
        if self._listener is not None:
            self._platform().stop_listener(self._listener, timeout)
            self._listener = None
