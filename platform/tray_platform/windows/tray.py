"""Windows tray adapter: pystray's win32 backend (Shell_NotifyIcon) in its own thread. A notification area is
always present, so the host check is trivially true. Threading: as linux/tray.py."""

from __future__ import annotations

from typing import Any

from tray_platform.linux.tray import start, stop  # the thread handling is OS-neutral  # noqa: F401

HAS_MENU = True
HAS_DEFAULT_ACTION = True
RUNS_ON_MAIN_THREAD = False


def import_pystray() -> Any:
    import pystray

    return pystray


def make_icon(pystray: Any, *args: Any, **kwargs: Any) -> Any:
    return pystray.Icon(*args, **kwargs)


def tray_host_available(display: str | None = None) -> tuple[bool, str]:
    return True, "Windows notification area"
