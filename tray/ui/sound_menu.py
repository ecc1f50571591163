"""The tray menu's Sound submenu (issue 14): Microphone on/off, System sound on/off, and which microphone.

What it shows and changes are the settings ``capture.audio`` (``none | mic | system | both``; ``auto`` shows the
microphone as on when this machine has one, system sound off) and ``capture.mic_device`` (a device id, "" = the
system's default microphone). A change is written to the settings file the way ``snaplark config set`` writes it
(:func:`tray.config.set_value`: validated, atomic) and applies to the next recording; a recording under way keeps
the sound it started with, which the submenu says while one runs.

The microphones are listed off the menu's thread: the list is cached for ``DEVICES_TTL`` seconds and a stale cache
starts one listing thread (``snaplark-audio-devices``); the tray menu is rebuilt when the list changed. Before the
first answer the submenu says it is looking; with no audio server it says so.

Threading: ``entries`` runs on the tray's thread (menu builds) and never blocks; ``refresh`` from any thread; the
items' actions post to the Tk thread, where the settings are changed (``set_mic``, ``set_system``,
``set_mic_device``: Tk thread only).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any, Callable

from tray.ui.context import TrayContext
from tray.ui.tray_icon import MenuEntry

log = logging.getLogger(__name__)

DEVICES_TTL = 10.0  # s a device list is shown before it is asked for again
MODES = {(False, False): "none", (True, False): "mic", (False, True): "system", (True, True): "both"}
RECORDING_NOTE = "Changes apply to the next recording"


def _default_lister() -> list[Any]:
    from tray.capture.audio_devices import list_audio_devices

    return list_audio_devices()


class SoundMenu:
    """See the module docstring. ``list_devices`` (blocking, raises ``AudioUnavailable``) replaces the OS adapter's
    listing in tests; ``on_change`` is called (from the listing thread) when the device list changed."""

    def __init__(self, ctx: TrayContext, *, list_devices: Callable[[], list[Any]] | None = None,
                 on_change: Callable[[], None] | None = None, clock: Callable[[], float] = time.monotonic,
                 ttl: float = DEVICES_TTL):
        self.ctx = ctx
        self._list = list_devices or _default_lister
        self.on_change = on_change
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._devices: list[Any] | None = None  # None: never listed
        self._problem: str | None = None  # why the last listing failed
        self._listed_at = float("-inf")
        self._listing: threading.Thread | None = None

    # ------------------------------------------------------------------ the device cache (any thread)
    def refresh(self, *, force: bool = False) -> None:
        """Start listing the devices on a helper thread when the cache is stale (or ``force``); never blocks."""
        with self._lock:
            if self._listing is not None or (not force and self._clock() - self._listed_at < self._ttl):
                return
            self._listing = threading.Thread(target=self._list_now, name="snaplark-audio-devices", daemon=True)
            listing = self._listing
        listing.start()

    def wait_listed(self, timeout: float) -> bool:
        """Wait for a listing under way (tests, and callers that need the answer); True when none is running."""
        with self._lock:
            listing = self._listing
        if listing is not None:
            listing.join(timeout)
            return not listing.is_alive()
        return True

    def _list_now(self) -> None:
        devices, problem = None, None
        try:
            devices = list(self._list())
        except Exception as exc:  # noqa: BLE001 - AudioUnavailable, or an adapter bug: shown, never raised
            problem = str(exc) or type(exc).__name__
            log.info("no audio devices listed: %s", problem)
        with self._lock:
            changed = (devices, problem) != (self._devices, self._problem)
            if devices is not None or self._devices is None:
                self._devices, self._problem = devices, problem
            else:  # keep the last good list, say what went wrong
                changed = problem != self._problem
                self._problem = problem
            self._listed_at = self._clock()
            self._listing = None
        if changed and self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # noqa: BLE001
                log.exception("refreshing the tray menu failed")

    def microphones(self) -> list[Any] | None:
        """The cached microphones (None: not listed yet or no audio server)."""
        with self._lock:
            devices = self._devices
        return None if devices is None else [d for d in devices if d.kind == "mic"]

    # ------------------------------------------------------------------ what is on
    def sources(self) -> tuple[bool, bool]:
        """(microphone on, system sound on) as the settings say; ``auto`` = the microphone when one exists (and
        while that is not known yet)."""
        cap = self.ctx.settings.capture
        if cap.audio == "auto":
            mics = self.microphones()
            return (mics is None or bool(mics)), False
        return cap.audio in ("mic", "both"), cap.audio in ("system", "both")

    def entries(self, recording: bool) -> list[MenuEntry]:
        self.refresh()
        mic_on, system_on = self.sources()
        post = self.ctx.post
        items = [MenuEntry(RECORDING_NOTE, enabled=False)] if recording else []
        items += [
            MenuEntry("Microphone", lambda: post(lambda: self.set_mic(not mic_on)), checked=mic_on),
            MenuEntry("System sound", lambda: post(lambda: self.set_system(not system_on)), checked=system_on),
            MenuEntry("Microphone device", submenu=self._device_entries()),
        ]
        return items

    def _device_entries(self) -> list[MenuEntry]:
        post = self.ctx.post
        chosen = self.ctx.settings.capture.mic_device
        with self._lock:
            devices, problem = self._devices, self._problem
        out = [MenuEntry("System default", lambda: post(lambda: self.set_mic_device("")), checked=not chosen,
                         radio=True)]
        if devices is None:
            out.append(MenuEntry(f"No audio devices: {problem}" if problem else "Looking for microphones…",
                                 enabled=False))
            return out
        mics = [d for d in devices if d.kind == "mic"]
        found = False
        for d in mics:
            is_chosen = bool(chosen) and chosen in (d.id, d.name)
            found = found or is_chosen
            out.append(MenuEntry(d.name, _choose(post, self.set_mic_device, d.id), checked=is_chosen, radio=True))
        if chosen and not found:
            out.append(MenuEntry(f"{chosen} (not connected)", checked=True, radio=True, enabled=False))
        if not mics:
            out.append(MenuEntry("No microphone found", enabled=False))
        return out

    # ------------------------------------------------------------------ changes (Tk thread)
    def set_mic(self, on: bool) -> None:
        self._save("capture.audio", MODES[(on, self.sources()[1])])

    def set_system(self, on: bool) -> None:
        self._save("capture.audio", MODES[(self.sources()[0], on)])

    def set_mic_device(self, device_id: str) -> None:
        self._save("capture.mic_device", device_id)

    def _save(self, key: str, value: str) -> None:
        """Write ``key = value`` to the settings file like ``snaplark config set`` and use it from now on."""
        from tray import config

        ctx = self.ctx
        path = ctx.config_path or config.resolve_path(None)
        try:
            if not path.exists():  # the settings the app runs with, then the change
                config.save_config(ctx.settings, path)
            saved = config.set_value(path, key, value)
        except (config.ConfigError, OSError) as exc:
            ctx.notify_error("Sound setting not saved", str(exc))
            return
        ctx.settings = dataclasses.replace(ctx.settings, capture=saved.capture)
        log.info("%s = %s (%s); applies to the next recording", key, value, path)
        if ctx.tray is not None:
            ctx.tray.refresh_menu()


def _choose(post: Callable[[Callable[[], None]], None], choose: Callable[[str], None],
            device_id: str) -> Callable[[], None]:
    return lambda: post(lambda: choose(device_id))
