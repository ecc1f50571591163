"""pynput ``GlobalHotKeys`` listener start/stop, shared by the OS hotkey adapters (pynput picks its own
backend: xorg on Linux, Quartz event tap on macOS, low-level keyboard hook on Windows).
Threading: pynput runs its own listener thread and calls the mapping's callables there."""

from __future__ import annotations

import threading
from typing import Any, Callable


def start_listener(mapping: dict[str, Callable[[], None]], *, ready_timeout: float = 5.0) -> Any:
    from pynput import keyboard  # lazy: needs a display on X11

    listener = keyboard.GlobalHotKeys(mapping)
    listener.daemon = True
    listener.start()
    ready = threading.Event()
    failure: list[BaseException] = []

    def wait() -> None:
        try:
            listener.wait()
        except BaseException as exc:  # noqa: BLE001
            failure.append(exc)
        ready.set()

    threading.Thread(target=wait, name="snaplark-hotkeys-ready", daemon=True).start()
    if not ready.wait(ready_timeout):
        listener.stop()
        raise TimeoutError(f"hotkey listener not ready after {ready_timeout}s")
    if failure:
        raise failure[0]
    if not listener.is_alive():
        raise RuntimeError("hotkey listener stopped right after starting")
    return listener


def stop_listener(listener: Any, timeout: float = 5.0) -> None:
    listener.stop()
    listener.join(timeout)


def is_x11() -> bool:
    return False


def find_grab_conflicts(hotkeys: list) -> dict[str, str]:
    return {}
