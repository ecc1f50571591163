"""Windows hotkey adapter: pynput (low-level keyboard hook) for listening; conflicts are detected with a test
``RegisterHotKey`` (fails with ERROR_HOTKEY_ALREADY_REGISTERED when another app owns the combination)."""

from __future__ import annotations

from typing import Any

from tray_platform.fallback.hotkeys import is_x11, start_listener, stop_listener  # noqa: F401

MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
VK_NAMES = {"space": 0x20, "enter": 0x0D, "tab": 0x09, "esc": 0x1B, "backspace": 0x08, "delete": 0x2E,
            "insert": 0x2D, "home": 0x24, "end": 0x23, "page_up": 0x21, "page_down": 0x22, "up": 0x26,
            "down": 0x28, "left": 0x25, "right": 0x27, "pause": 0x13, "print_screen": 0x2C, "scroll_lock": 0x91}


def virtual_key(key: str) -> int | None:
    if key in VK_NAMES:
        return VK_NAMES[key]
    if key.startswith("f") and key[1:].isdigit():
        return 0x70 + int(key[1:]) - 1
    if len(key) == 1 and key.isalnum() and key.isascii():
        return ord(key.upper())
    return None


def modifier_flags(modifiers: frozenset[str]) -> int:
    table = {"ctrl": MOD_CONTROL, "alt": MOD_ALT, "shift": MOD_SHIFT, "cmd": MOD_WIN, "alt_gr": MOD_CONTROL | MOD_ALT}
    flags = MOD_NOREPEAT
    for m in modifiers:
        flags |= table[m]
    return flags


def find_grab_conflicts(hotkeys: list, user32: Any = None) -> dict[str, str]:
    if user32 is None:
        import ctypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)
    conflicts = {}
    for i, hk in enumerate(hotkeys):
        vk = virtual_key(hk.key)
        if vk is None:
            continue
        test_id = 0xB000 + i
        if user32.RegisterHotKey(None, test_id, modifier_flags(hk.modifiers), vk):
            user32.UnregisterHotKey(None, test_id)
        else:
            conflicts[hk.setting] = "RegisterHotKey refused: already registered by another application"
    return conflicts
