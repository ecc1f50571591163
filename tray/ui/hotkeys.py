"""Global hotkeys: registration of the ``[hotkeys]`` settings with pynput.

The grammar (parsing/validation of a setting, duplicate detection) is :mod:`tray.config.hotkey_grammar`; its names
are re-exported here (``from tray.ui.hotkeys import parse_hotkey`` keeps working). See that module for the spellings
and the rules.

Registration (``GlobalHotkeys.start``): every valid hotkey is registered with one pynput ``GlobalHotKeys`` listener;
invalid ones and ones another X client has already grabbed are reported through ``on_problem`` (once each) -- the
valid ones still work. The Settings window checks the combinations it shows the same way (:func:`taken_by_others`). Detecting a foreign grab uses the platform adapter (X11: a test ``XGrabKey`` that fails with
BadAccess); pynput itself listens through XRecord and would still fire, but the other application reacts too.

Threading: pynput calls back on its listener thread; callbacks only ``post`` the command to the UI dispatcher.
``start``/``stop`` from the main thread.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Callable

from tray.config.hotkey_grammar import (  # noqa: F401 - re-exported: the grammar's callers import it from here
    DISPLAY_NAMES,
    EXAMPLE,
    F_KEYS,
    MOD_ORDER,
    MODIFIERS,
    NAMED_KEYS,
    REFUSED_NAMES,
    RESERVED,
    SHIFT_CHANGES,
    SHIFTED_SYMBOLS,
    STANDALONE_OK,
    UNSHIFTED_SYMBOLS,
    Hotkey,
    HotkeyError,
    canonical_hotkey,
    parse_hotkey,
    parse_hotkeys,
)

__all__ = [
    "DISPLAY_NAMES", "EXAMPLE", "F_KEYS", "MOD_ORDER", "MODIFIERS", "NAMED_KEYS", "REFUSED_NAMES", "RESERVED",
    "SHIFT_CHANGES", "SHIFTED_SYMBOLS", "STANDALONE_OK", "UNSHIFTED_SYMBOLS",
    "GlobalHotkeys", "Hotkey", "HotkeyError", "HotkeyProblem", "Post", "canonical_hotkey", "parse_hotkey",
    "parse_hotkeys", "taken_by_others", "taken_message",
]

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]


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
        valid, errors = parse_hotkeys({k: v for k, (v, _) in self.bindings.items()})  # the config's grammar
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
                    value = self.bindings[name][0]
                    problems.append(HotkeyProblem(hk.setting, value, taken_message(hk, value, taken[hk.setting],
                                                                                   self._os_name())))
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


def taken_message(hk: Hotkey, value: str, why: str, os_name: str) -> str:
    """What registration says of a combination another application holds (the tray's warning, the Settings window)."""
    return (f"{hk.setting} = {value!r}: {hk.display(os_name)} is already taken by another application ({why}); "
            "both would react. Choose another combination.")


def taken_by_others(values: dict[str, str], *, os_name: str | None = None, adapter: Any = None) -> dict[str, str]:
    """``{setting: message}`` for the hotkeys (``values``: name -> config string, as ``[hotkeys]`` has them) that
    another application holds now, checked as registration checks them (X11: a test ``XGrabKey`` that fails with
    BadAccess). What the grammar refuses is left out (the form says it); ``{}`` where the OS cannot tell. Blocking
    for one short round trip to the display server."""
    valid, _ = parse_hotkeys(values)
    if not valid:
        return {}
    if os_name is None:
        from tray_platform.base import current_os

        os_name = current_os()
    try:
        adapter = adapter or importlib.import_module(f"tray_platform.{os_name}.hotkeys")
        taken = adapter.find_grab_conflicts(list(valid.values()))
    except Exception as exc:  # noqa: BLE001 - the check is advisory, as at registration
        log.debug("grab conflict check failed: %s", exc)
        return {}
    return {hk.setting: taken_message(hk, values[name], taken[hk.setting], os_name)
            for name, hk in valid.items() if hk.setting in taken}
