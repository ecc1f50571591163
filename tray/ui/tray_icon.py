"""Tray icon: state picture + tooltip, the menu from issue 7, left click = capture region.

The menu is described OS-neutrally (``MenuEntry`` trees from ``TrayIcon.menu_spec()``, unit-tested without a
display) and turned into pystray objects only in ``start()``. Every menu callback only posts a command:
``post(commands.capture_region)`` -- the tray thread never does work itself.

No tray host (bare X server, Wayland without AppIndicator): ``start()`` returns False, ``available`` is False
and ``unavailable_reason`` says why; ``on_unavailable`` (if given) is called once with that text so the app can
tell the user that the hotkeys still work. On X11 the icon is still created and GTK embeds it when a tray host
appears later (panel started after Snaplark); ``check_host()`` then returns True.

Upload states the engine reports (``show_upload_event``) put marks over the picture: a refused token (AUTH_REQUIRED)
shows "needs login" and turns the menu's "Log out" into "Log in" until a login (or an upload that works again);
PAUSED_OFFLINE shows "offline" until the engine is online again. A recording keeps its own picture; the marks show
when it ends.

Recent uploads are named for people: "Screenshot 14:03", "Recording 2:41 · 14:05" (kind, duration, local time of
the upload; a date when it was not today); clicking one runs ``copy_link`` (the app copies and confirms); their
"Delete link…" submenu runs ``delete_link`` (the app asks first). See :mod:`tray.ui.recent_uploads`.

Threading: ``start``/``stop`` from the app's main thread (on macOS ``start`` must be on the main thread).
``set_state``/``set_recent``/``set_logged_in``/``set_recording``/``show_upload*`` may be called from any thread: they
update plain fields under a lock and ask pystray to refresh, which pystray marshals to its own loop.
"""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Protocol

from tray.ui.menu_entry import SEPARATOR, MenuEntry
from tray.ui.recent_uploads import RECENT_LIMIT, RecentUpload, recent_menu
from tray.upload.events import StateChanged, UploadProgress
from tray.upload.state import UploadState

__all__ = ["MenuEntry", "SEPARATOR", "RecentUpload", "RECENT_LIMIT", "TrayIcon", "TrayState", "TrayCommands",
           "format_elapsed", "icon_path", "icons_dir"]

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]


class TrayState(enum.Enum):
    IDLE = "idle"
    RECORDING = "recording"
    UPLOADING = "uploading"
    OFFLINE = "offline"
    NEEDS_LOGIN = "needs-login"


class TrayCommands(Protocol):
    def capture_region(self) -> None: ...
    def capture_screen(self) -> None: ...
    def capture_active_window(self) -> None: ...
    def copy_text(self) -> None: ...
    def pin_last(self) -> None: ...
    def capture_screen_delayed(self) -> None: ...
    def record_region(self) -> None: ...
    def record_screen(self) -> None: ...
    def stop_recording(self) -> None: ...
    def toggle_pause(self) -> None: ...
    def copy_link(self, url: str) -> None: ...
    def delete_link(self, url: str) -> None: ...
    def open_captures_folder(self) -> None: ...
    def open_settings(self) -> None: ...
    def open_settings_file(self) -> None: ...
    def open_history(self) -> None: ...
    def login(self) -> None: ...
    def logout(self) -> None: ...
    def quit(self) -> None: ...


# Upload states. _WORKING: the server took a request from us (so we are online and the token works); _RUNNING: an
# upload is under way; _ENDED: it is over.
_WORKING = frozenset({UploadState.UPLOADING, UploadState.FINALIZING, UploadState.COMPLETED})
_RUNNING = frozenset({UploadState.IDLE, UploadState.INITIALIZING, UploadState.UPLOADING, UploadState.FINALIZING})
_ENDED = frozenset({UploadState.COMPLETED, UploadState.FAILED})


def icons_dir() -> Path:
    """Installed wheel: ``tray/icons`` (force-included); editable install / source tree: repo ``icons/``."""
    try:
        packaged = resources.files("tray") / "icons"
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover
        pass
    return Path(__file__).resolve().parents[2] / "icons"


def icon_path(state: TrayState, size: int = 64) -> Path:
    return icons_dir() / f"{state.value}-{size}.png"


def format_elapsed(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


@dataclass
class _View:
    state: TrayState = TrayState.IDLE
    percent: int | None = None
    elapsed: float | None = None
    recording: bool = False
    paused: bool = False
    logged_in: bool = True
    login_needed: bool = False  # an upload was refused (401): the picture says so until a login
    offline: bool = False  # the upload engine is offline (PAUSED_OFFLINE)
    recent: list[RecentUpload] = field(default_factory=list)

    def shown(self) -> TrayState:
        """The picture: recording first, then what needs the user (login), then offline, then the base state."""
        if self.state is TrayState.RECORDING:
            return TrayState.RECORDING
        if self.login_needed:
            return TrayState.NEEDS_LOGIN
        if self.offline:
            return TrayState.OFFLINE
        return self.state


class TrayIcon:
    def __init__(self, commands: TrayCommands, post: Post, *, app_name: str = "Snaplark",
                 capture_hotkey: str = "", on_unavailable: Callable[[str], None] | None = None,
                 adapter: Any = None, icon_size: int = 64,
                 sound_menu: Callable[[bool], list[MenuEntry]] | None = None) -> None:
        """``sound_menu(recording)``: the entries of the Sound submenu (``tray.ui.sound_menu``); it must not
        block (it runs on the tray's thread whenever the menu is rebuilt). None: no Sound submenu."""
        self.commands = commands
        self.sound_menu = sound_menu
        self.post = post
        self.app_name = app_name
        self.capture_hotkey = capture_hotkey
        self.on_unavailable = on_unavailable
        self.icon_size = icon_size
        self._adapter = adapter
        self._view = _View()
        self._lock = threading.Lock()
        self._icon: Any = None
        self._thread: Any = None
        self._images: dict[TrayState, Any] = {}
        self.available: bool | None = None
        self.unavailable_reason: str | None = None
        self._told = False  # the user hears about a missing tray once

    # -- state (any thread) --------------------------------------------------------------------------------
    def set_state(self, state: TrayState, *, percent: int | None = None, elapsed: float | None = None) -> None:
        with self._lock:
            before = self._view.shown()
            self._view.state = state
            self._view.percent = percent
            self._view.elapsed = elapsed
            changed_picture = self._view.shown() is not before
        self._refresh(picture=changed_picture, menu=True)

    def show_upload(self, state: UploadState, *, online: bool | None = None, percent: int | None = None) -> None:
        """The upload engine reported ``state`` and, if known, whether it is online."""
        with self._lock:
            v = self._view
            before = v.shown()
            if state is UploadState.AUTH_REQUIRED:
                v.login_needed, v.logged_in = True, False
            elif state in _WORKING and v.login_needed:  # the token works again (e.g. `snaplark login` elsewhere)
                v.login_needed, v.logged_in = False, True
            if state is UploadState.PAUSED_OFFLINE or online is False:
                v.offline = True
            elif online is True or state in _WORKING:
                v.offline = False
            if v.state is not TrayState.RECORDING:
                if state in _ENDED:
                    v.state, v.percent = TrayState.IDLE, None
                elif state in _RUNNING:
                    v.state, v.percent = TrayState.UPLOADING, percent
            changed_picture = v.shown() is not before
        self._refresh(picture=changed_picture, menu=True)

    def show_upload_event(self, event: object) -> None:
        """An upload engine event (``UploadProgress`` with its snapshot, or ``StateChanged``)."""
        match event:
            case UploadProgress(snapshot=snapshot):
                self.show_upload(snapshot.state, online=snapshot.online, percent=snapshot.percent)
            case StateChanged(new=new):
                self.show_upload(new)

    def set_recording(self, recording: bool, *, paused: bool = False) -> None:
        with self._lock:
            self._view.recording = recording
            self._view.paused = paused and recording
        self._refresh(menu=True)

    def set_logged_in(self, logged_in: bool) -> None:
        with self._lock:
            before = self._view.shown()
            self._view.logged_in = logged_in
            if logged_in:
                self._view.login_needed = False
            changed_picture = self._view.shown() is not before
        self._refresh(picture=changed_picture, menu=True)

    def set_recent(self, uploads: list[RecentUpload]) -> None:
        with self._lock:
            self._view.recent = list(uploads)[:RECENT_LIMIT]
        self._refresh(menu=True)

    def add_recent(self, upload: RecentUpload) -> None:
        with self._lock:
            self._view.recent = ([upload] + [u for u in self._view.recent if u.url != upload.url])[:RECENT_LIMIT]
        self._refresh(menu=True)

    @property
    def state(self) -> TrayState:
        """What the icon shows (see ``_View.shown``)."""
        with self._lock:
            return self._view.shown()

    # -- derived view (pure) ---------------------------------------------------------------------------------
    def tooltip(self) -> str:
        with self._lock:
            v = self._view
            state, pct, elapsed, paused = v.shown(), v.percent, v.elapsed, v.paused
        name = self.app_name
        if state is TrayState.RECORDING:
            word = "Paused" if paused else "Recording"
            return f"{name} — {word} {format_elapsed(elapsed or 0)}"
        if state is TrayState.UPLOADING:
            return f"{name} — Uploading {pct}%" if pct is not None else f"{name} — Uploading…"
        if state is TrayState.OFFLINE:
            return f"{name} — Offline; uploads resume automatically"
        if state is TrayState.NEEDS_LOGIN:
            return f"{name} — Log in needed (run snaplark login)"
        hint = f" ({self.capture_hotkey} to capture)" if self.capture_hotkey else ""
        return f"{name}{hint}"

    def _cmd(self, fn: Callable[[], None]) -> Callable[[], None]:
        return lambda: self.post(fn)

    def menu_spec(self) -> list[MenuEntry]:
        with self._lock:
            v = _View(**{k: getattr(self._view, k) for k in self._view.__dataclass_fields__})
        c = self.commands
        recent = recent_menu(v.recent, copy=lambda url: self._cmd(lambda: c.copy_link(url)),
                             delete=lambda url: self._cmd(lambda: c.delete_link(url)))
        return [
            MenuEntry("Capture region", self._cmd(c.capture_region), default=True),
            MenuEntry("Capture screen", self._cmd(c.capture_screen)),
            MenuEntry("Record region", self._cmd(c.record_region), enabled=not v.recording),
            MenuEntry("Record screen", self._cmd(c.record_screen), enabled=not v.recording),
            MenuEntry("Stop recording", self._cmd(c.stop_recording), enabled=v.recording),
            MenuEntry("Resume recording" if v.paused else "Pause recording", self._cmd(c.toggle_pause),
                      enabled=v.recording),
            SEPARATOR,
            MenuEntry("Recent uploads", submenu=recent),
            MenuEntry("History…", self._cmd(c.open_history)),
            *([MenuEntry("Sound", submenu=self.sound_menu(v.recording))] if self.sound_menu else []),
            MenuEntry("Copy text from region", self._cmd(c.copy_text)),
            MenuEntry("Pin last screenshot", self._cmd(c.pin_last)),
            MenuEntry("Capture screen in 5 s", self._cmd(c.capture_screen_delayed)),
            MenuEntry("Capture active window", self._cmd(c.capture_active_window)),
            MenuEntry("Open captures folder", self._cmd(c.open_captures_folder)),
            MenuEntry("Settings…", self._cmd(c.open_settings)),
            MenuEntry("Open settings file", self._cmd(c.open_settings_file)),
            MenuEntry("Log out", self._cmd(c.logout)) if v.logged_in else MenuEntry("Log in", self._cmd(c.login)),
            SEPARATOR,
            MenuEntry("Quit", self._cmd(c.quit)),
        ]

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def _platform(self) -> Any:
        if self._adapter is None:
            import importlib

            from tray_platform.base import current_os

            self._adapter = importlib.import_module(f"tray_platform.{current_os()}.tray")
        return self._adapter

    def start(self) -> bool:
        """Show the icon. Returns False (and reports once) when there is no tray host to show it in."""
        adapter = self._platform()
        ok, reason = adapter.tray_host_available()
        if not ok:
            self._unavailable(reason)
            if not getattr(adapter, "can_wait_for_host", lambda: False)():
                return False
            # X11: create the icon anyway; GTK embeds it as soon as a tray host appears (a panel that starts
            # after Snaplark at login). ``check_host()`` tells when that happened.
        try:
            pystray = adapter.import_pystray()
            self._icon = adapter.make_icon(pystray, "snaplark", self._image(self.state), self.tooltip(),
                                           menu=pystray.Menu(lambda: self._pystray_items(pystray, self.menu_spec())))
            self._thread = adapter.start(self._icon, on_exit=self._loop_exited)
        except Exception as exc:  # noqa: BLE001 - reported, the app stays usable via hotkeys
            log.exception("tray icon failed to start")
            return self._unavailable(f"the tray icon could not be created: {type(exc).__name__}: {exc}")
        self.available = ok
        return ok

    def check_host(self) -> bool:
        """Re-check for a tray host (cheap; call from a timer). Returns True once the icon can be shown."""
        if self.available or self._icon is None:
            return bool(self.available)
        ok, _ = self._platform().tray_host_available()
        if ok:
            self.available = True
            self.unavailable_reason = None
            log.info("a tray host appeared; the tray icon is shown")
        return ok

    def stop(self) -> None:
        if self._icon is not None:
            self._platform().stop(self._icon, self._thread)
            self._icon = None
            self._thread = None

    def _unavailable(self, reason: str) -> bool:
        self.available = False
        self.unavailable_reason = reason
        log.warning("tray icon unavailable: %s", reason)
        if self.on_unavailable is not None and not self._told:
            self._told = True
            hotkey = f" ({self.capture_hotkey})" if self.capture_hotkey else ""
            self.on_unavailable(f"No tray icon: {reason}. Snaplark keeps running; use the global hotkeys{hotkey}.")
        return False

    def _loop_exited(self, error: BaseException | None) -> None:
        if error is not None:
            self._unavailable(f"the tray icon stopped: {type(error).__name__}: {error}")

    # -- pystray glue ------------------------------------------------------------------------------------------
    def _image(self, state: TrayState) -> Any:
        if state not in self._images:
            from PIL import Image

            with Image.open(icon_path(state, self.icon_size)) as img:
                self._images[state] = img.convert("RGBA")
        return self._images[state]

    def _pystray_items(self, pystray: Any, entries: list[MenuEntry]) -> list[Any]:
        items = []
        for e in entries:
            if e.separator:
                items.append(pystray.Menu.SEPARATOR)
            elif e.submenu is not None:
                items.append(pystray.MenuItem(e.text, pystray.Menu(*self._pystray_items(pystray, e.submenu))))
            elif e.checked is not None:
                items.append(pystray.MenuItem(e.text, _pystray_action(e.action), checked=_const(e.checked),
                                              radio=e.radio, enabled=e.enabled))
            else:
                items.append(pystray.MenuItem(e.text, _pystray_action(e.action), enabled=e.enabled,
                                              default=e.default))
        return items

    def refresh_menu(self) -> None:
        """Rebuild the menu (its entries changed outside this object: the Sound submenu's devices). Any thread."""
        self._refresh(menu=True)

    def _refresh(self, *, picture: bool = False, menu: bool = False) -> None:
        icon = self._icon
        if icon is None:
            return
        try:
            if picture:
                icon.icon = self._image(self.state)
            icon.title = self.tooltip()
            if menu:
                icon.update_menu()
        except Exception:  # noqa: BLE001 - a tray glitch must not break the caller (recorder, uploader)
            log.exception("tray refresh failed")


def _const(value: bool) -> Callable[[Any], bool]:
    return lambda item: value


def _pystray_action(action: Callable[[], None] | None) -> Callable[..., None]:
    def on_click(icon: Any, item: Any) -> None:  # pystray passes (icon, item)
        if action is not None:
            action()

    return on_click
