"""Another X client holding a key combination, as a desktop shortcut would: its own connection to the display
(``$DISPLAY``) grabs the key with Ctrl+Alt on the root window until the ``with`` ends (closing it lets go)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def other_client_holds_ctrl_alt(key: str) -> Iterator[None]:
    from Xlib import X
    from Xlib import display as xdisplay

    from tray_platform.linux.hotkeys import _keysym

    other = xdisplay.Display()
    try:
        keycode = other.keysym_to_keycode(_keysym(key))
        other.screen().root.grab_key(keycode, X.ControlMask | X.Mod1Mask, False, X.GrabModeAsync, X.GrabModeAsync)
        other.sync()
        yield
    finally:
        other.close()
