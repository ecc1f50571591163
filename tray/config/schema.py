"""The settings schema: typed, frozen sections with defaults and a validator per field, and building them from data.

:class:`Settings` groups the sections ``server``, ``hotkeys``, ``capture``, ``upload`` and ``notifications``
(schema v2, :data:`SCHEMA_VERSION`). :func:`settings_from_dict` validates current-schema raw data all at once:
unknown keys are warned about (naming the key and the file), bad values become one :class:`ConfigError` listing
every problem, two hotkeys with the same combination are refused naming both. Reading, migrating and writing files is
:mod:`tray.config.store` / :mod:`tray.config.migration`.

Threading: :class:`Settings` and its sections are frozen dataclasses, safe to share between threads; change a
setting with :func:`dataclasses.replace` (or :func:`tray.config.store.set_value`) and save the new object.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tray import paths
from tray.config.hotkey_grammar import parse_hotkeys
from tray.config.validation import (ConfigError, Validator, v_bool, v_choice, v_duration, v_hotkey, v_int_range, v_str,
                                    v_url)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2


def _opt(validator: Validator) -> dict:
    return {"validator": validator}


# ------------------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ServerSettings:
    url: str = field(default="", metadata=_opt(v_url))  # "" = embedded reference server; else API base URL
    embedded_port: int = field(default=8765, metadata=_opt(v_int_range(1, 65535)))


@dataclass(frozen=True)
class HotkeySettings:
    capture_region: str = field(default="<ctrl>+<alt>+s", metadata=_opt(v_hotkey))
    capture_screen: str = field(default="<ctrl>+<alt>+a", metadata=_opt(v_hotkey))
    record_region: str = field(default="<ctrl>+<alt>+r", metadata=_opt(v_hotkey))
    stop_recording: str = field(default="<ctrl>+<alt>+q", metadata=_opt(v_hotkey))
    pause_recording: str = field(default="<ctrl>+<alt>+p", metadata=_opt(v_hotkey))
    copy_text: str = field(default="", metadata=_opt(v_hotkey))  # "Copy text" (OCR) from a region; "" = none
    capture_window: str = field(default="<ctrl>+<alt>+w", metadata=_opt(v_hotkey))  # the active window


@dataclass(frozen=True)
class CaptureSettings:
    fps: int = field(default=30, metadata=_opt(v_int_range(1, 120)))
    # "webm": VP9 + Opus; "mp4": H.264 + AAC, fragmented (tray.capture.encoder). docs/playback.md: which plays where
    # "gif": a WebM spool made an animated GIF when it stops, at most 60 s, no sound (tray.capture.gif)
    format: str = field(default="webm", metadata=_opt(v_choice("webm", "mp4", "gif")))
    bitrate: int = field(default=2_500_000, metadata=_opt(v_int_range(1, None)))  # bits per second
    cursor: bool = field(default=True, metadata=_opt(v_bool))
    countdown: int = field(default=3, metadata=_opt(v_int_range(0, 10)))  # seconds
    max_duration: int = field(default=0, metadata=_opt(v_int_range(0, None)))  # seconds, 0 = unlimited
    # "auto": the microphone when one exists, else none (tray.capture.audio.audio_spec)
    audio: str = field(default="auto", metadata=_opt(v_choice("auto", "none", "mic", "system", "both")))
    mic_device: str = field(default="", metadata=_opt(v_str))  # "" = the system's default microphone
    # window capture with the window manager's title bar and borders (tray.capture.window says why by default)
    window_frame: bool = field(default=True, metadata=_opt(v_bool))
    # the webcam bubble in recordings (tray.capture.webcam_bubble): a round webcam picture in a corner
    webcam: bool = field(default=False, metadata=_opt(v_bool))
    webcam_device: str = field(default="", metadata=_opt(v_str))  # "" = the first camera; "file:PATH" = a video
    webcam_corner: str = field(default="bottom-right", metadata=_opt(
        v_choice("bottom-right", "bottom-left", "top-right", "top-left")))


@dataclass(frozen=True)
class UploadSettings:
    auto_upload: bool = field(default=True, metadata=_opt(v_bool))
    keep_local_copy: bool = field(default=True, metadata=_opt(v_bool))
    save_dir: str = field(default="", metadata=_opt(v_str))  # "" = tray.paths.captures_dir()
    # the link handed out (tray.upload.links): "page" = the share page when the server has one, "file" = the file
    copy: str = field(default="page", metadata=_opt(v_choice("page", "file")))
    # how long uploads live on the server: "7d", "12h", "30m", "2w", seconds; "" = as long as the server keeps them
    # (its default_expiry; a seed-only server ignores it). snaplark upload/shot/record --expires overrides it.
    expires: str = field(default="", metadata=_opt(v_duration))

    def resolved_save_dir(self) -> Path:
        """Where local copies go: ``save_dir`` (``~`` expanded) or the default captures dir."""
        return Path(self.save_dir).expanduser() if self.save_dir else paths.captures_dir()

    def ensure_save_dir(self) -> Path:
        """:meth:`resolved_save_dir`, created 0700 if missing (the default folder is made 0700 even if it exists;
        a folder the user chose keeps its mode)."""
        return paths.ensure_private_dir(self.resolved_save_dir(), ours=not self.save_dir)


@dataclass(frozen=True)
class NotificationSettings:
    enabled: bool = field(default=True, metadata=_opt(v_bool))
    progress: bool = field(default=True, metadata=_opt(v_bool))


@dataclass(frozen=True)
class Settings:
    schema_version: int = SCHEMA_VERSION
    server: ServerSettings = field(default_factory=ServerSettings)
    hotkeys: HotkeySettings = field(default_factory=HotkeySettings)
    capture: CaptureSettings = field(default_factory=CaptureSettings)
    upload: UploadSettings = field(default_factory=UploadSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(Settings)  # type: ignore[misc]
                             if f.name != "schema_version"}


def setting_keys() -> list[str]:
    """Every dotted key, e.g. ``capture.fps``, in file order."""
    return [f"{section}.{f.name}" for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)]


def setting_field(key: str) -> tuple[str, dataclasses.Field]:
    """``(section, field)`` of a dotted key such as ``capture.fps``; ``KeyError`` for an unknown key."""
    section, _, name = key.partition(".")
    cls = SECTIONS.get(section)
    if cls is not None:
        for f in dataclasses.fields(cls):
            if f.name == name:
                return section, f
    raise KeyError(key)


# ----------------------------------------------------------------------------------------------- validation
def hotkey_clashes(given: dict[str, Any], *, last: str | None = None) -> list[tuple[str, Any, str]]:
    """``(key, value, reason)`` for each hotkey that uses the same combination as another (compared in canonical
    form: ``Ctrl+Alt+S`` == ``<ctrl>+<alt>+s``). ``given``: the ``[hotkeys]`` values written in the file that passed
    :func:`v_hotkey`; the others hold their defaults. The setting refused is the later one -- defaults first, then
    the file's in field order, ``last`` (what ``config set`` changes) at the very end -- and the message names the
    other one."""
    fields = dataclasses.fields(HotkeySettings)
    defaults = [f.name for f in fields if f.name not in given]
    order = defaults + [f.name for f in fields if f.name in given and f.name != last]
    order += [last] if last in given else []
    values = {f.name: given.get(f.name, f.default) for f in fields}
    _, errors = parse_hotkeys({name: values[name] for name in order}, defaults=defaults)
    return [(e.setting, e.value, e.reason) for e in errors]


def settings_from_dict(data: dict[str, Any], path: Path | None = None) -> Settings:
    """Validate current-schema raw data and build :class:`Settings`. Unknown keys → warning; bad values →
    :class:`ConfigError` listing each problem."""
    where = str(path) if path is not None else "<settings>"
    problems: list[tuple[str, Any, str]] = []
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key == "schema_version":
            if value != SCHEMA_VERSION:
                problems.append((key, value, f"expected {SCHEMA_VERSION}"))
            continue
        cls = SECTIONS.get(key)
        if cls is None:
            log.warning("unknown config key %r in %s (ignored)", key, where)
            continue
        if not isinstance(value, dict):
            problems.append((key, value, f"expected a [{key}] table"))
            continue
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for name, item in value.items():
            f = known.get(name)
            if f is None:
                log.warning("unknown config key %r in %s (ignored)", f"{key}.{name}", where)
                continue
            reason = f.metadata["validator"](item)
            if reason:
                problems.append((f"{key}.{name}", item, reason))
            else:
                kwargs[name] = item
        sections[key] = kwargs
    problems += hotkey_clashes(sections.get("hotkeys", {}))  # the same combination for two actions
    if problems:
        raise ConfigError(path, problems)
    return Settings(**{name: SECTIONS[name](**kwargs) for name, kwargs in sections.items()})
