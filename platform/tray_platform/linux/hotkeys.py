"""Linux (X11) hotkey adapter: pynput listener (XRecord) + detection of combinations another X client has
already grabbed (a test ``XGrabKey`` on the root window fails with BadAccess; we ungrab immediately on success).
Wayland sessions without XWayland access cannot have global hotkeys from here; ``start_listener`` then fails and
the caller reports it. Threading: ``find_grab_conflicts`` opens its own short-lived X connection."""

from __future__ import annotations

import os
from typing import Any

from tray_platform.fallback.hotkeys import start_listener  # noqa: F401

X_KEYSYM_NAMES = {
    "space": "space", "enter": "Return", "tab": "Tab", "esc": "Escape", "backspace": "BackSpace",
    "delete": "Delete", "insert": "Insert", "home": "Home", "end": "End", "page_up": "Prior",
    "page_down": "Next", "up": "Up", "down": "Down", "left": "Left", "right": "Right", "pause": "Pause",
    "print_screen": "Print", "scroll_lock": "Scroll_Lock", "num_lock": "Num_Lock", "caps_lock": "Caps_Lock",
    # python-xlib spells the XF86 keysyms with an underscore, in a group it only loads on request (see _keysym)
    "menu": "Menu", "media_play_pause": "XF86_AudioPlay", "media_next": "XF86_AudioNext",
    "media_previous": "XF86_AudioPrev", "media_volume_up": "XF86_AudioRaiseVolume",
    "media_volume_down": "XF86_AudioLowerVolume", "media_volume_mute": "XF86_AudioMute",
}


def stop_listener(listener: Any, timeout: float = 5.0) -> None:
    """Stop a pynput xorg listener promptly.

    pynput 1.8's ``stop()`` queues XRecordDisableContext on the recording connection, which its own thread is
    blocked reading, so the request is not flushed until the next key/mouse event: the thread lingers and later
    dies with ConnectionClosedError when the X server goes away. Disabling the context through pynput's control
    connection (what the RECORD spec recommends) and flushing ends it at once.
    """
    listener.stop()
    control = getattr(listener, "_display_stop", None)
    context = getattr(listener, "_context", None)
    if control is not None and context is not None and listener.is_alive():
        try:
            control.record_disable_context(context)
            control.flush()
        except Exception:  # noqa: BLE001 - already closed: the thread is finishing anyway
            pass
    listener.join(timeout)


def session_warning(env: dict | None = None) -> str | None:
    """A Wayland session reaches us through XWayland: XRecord then only sees keys typed into X11 windows."""
    from tray_platform.linux.session import is_wayland

    if is_wayland(os.environ if env is None else env):
        from tray_platform.linux.wayland_hotkeys import session_warning as wayland_warning

        return ("global hotkeys only fire while an X11 (XWayland) window has focus; " + wayland_warning())
    return None


def is_x11() -> bool:
    return bool(os.environ.get("DISPLAY"))


def _keysym(key: str) -> int:
    from Xlib import XK

    if key in X_KEYSYM_NAMES:
        name = X_KEYSYM_NAMES[key]
        if name.startswith("XF86_"):
            XK.load_keysym_group("xf86")
    elif key.startswith("f") and key[1:].isdigit():
        name = key.upper()
    else:
        name = key
    sym = XK.string_to_keysym(name)
    if not sym and len(key) == 1 and ord(key) < 256:
        sym = ord(key)  # Latin-1 keysyms equal the code point ('/', ',', ...)
    if not sym and len(key) == 1:
        sym = 0x01000000 | ord(key)  # Unicode keysym
    return sym


def _mask(modifiers: frozenset[str]) -> int:
    from Xlib import X

    table = {"ctrl": X.ControlMask, "shift": X.ShiftMask, "alt": X.Mod1Mask, "cmd": X.Mod4Mask,
             "alt_gr": X.Mod5Mask}
    mask = 0
    for m in modifiers:
        mask |= table[m]
    return mask


def find_grab_conflicts(hotkeys: list, display: str | None = None) -> dict[str, str]:
    """{setting: why} for each hotkey whose key+modifiers another X client has grabbed (XGrabKey BadAccess)."""
    from Xlib import X, error
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    conflicts: dict[str, str] = {}
    try:
        root = d.screen().root
        for hk in hotkeys:
            keycode = d.keysym_to_keycode(_keysym(hk.key))
            if not keycode:
                conflicts[hk.setting] = f"the key {hk.key!r} is not on this keyboard layout"
                continue
            catcher = error.CatchError(error.BadAccess)
            mask = _mask(hk.modifiers)
            root.grab_key(keycode, mask, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
            d.sync()
            if catcher.get_error():
                conflicts[hk.setting] = "X11 key grab held by another client"
            else:
                root.ungrab_key(keycode, mask)
                d.sync()
    finally:
        d.close()
    return conflicts
