"""macOS tray adapter: pystray's darwin backend (NSStatusItem) must run on the main thread, which Tk owns; so it
is started with ``run_detached()`` and integrates with the main run loop (DESIGN.md). ``start`` must be called on
the main thread. The menu bar always exists, so the host check is trivially true. Left click opens the menu
(macOS convention), so there is no default action."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

HAS_MENU = True
HAS_DEFAULT_ACTION = False
RUNS_ON_MAIN_THREAD = True


def import_pystray() -> Any:
    import pystray

    return pystray


def make_icon(pystray: Any, *args: Any, **kwargs: Any) -> Any:
    return pystray.Icon(*args, **kwargs)


def tray_host_available(display: str | None = None) -> tuple[bool, str]:
    return True, "macOS menu bar"


def start(icon: Any, *, on_exit: Callable[[BaseException | None], None] | None = None) -> None:
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("the macOS status item must be started on the main thread")
    icon.run_detached()
    return None


def stop(icon: Any, thread: Any = None, timeout: float = 5.0) -> None:
    try:
        icon.stop()
    except Exception:  # noqa: BLE001
        log.debug("icon.stop failed", exc_info=True)
