"""One entry of the tray menu, described OS-neutrally (:meth:`tray.ui.tray_icon.TrayIcon.menu_spec` builds the tree;
``TrayIcon.start`` turns it into pystray objects). Pure data: unit-tested without a display.

Threading: plain values; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class MenuEntry:
    text: str
    action: Callable[[], None] | None = None  # already wrapped: calling it posts the command
    enabled: bool = True
    default: bool = False
    submenu: list["MenuEntry"] | None = None
    separator: bool = False
    checked: bool | None = None  # None: a plain item; True/False: a check item (a radio item with ``radio``)
    radio: bool = False


SEPARATOR = MenuEntry("-", separator=True)
