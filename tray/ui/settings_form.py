"""What the Settings window shows and checks, without Tk: the fields of each tab and their validation, which is the
settings schema's own (:mod:`tray.config.schema`), so a field shows exactly the problem ``snaplark config set``
prints: ``capture.fps = 500: must be between 1 and 120``.

Threading: pure functions and frozen values; any thread.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tray import config
from tray.config.schema import HotkeySettings, hotkey_clashes, setting_field
from tray.config.validation import show_value


@dataclass(frozen=True)
class FieldSpec:
    key: str  # dotted setting, e.g. "capture.fps"
    label: str
    widget: str  # "text" | "bool" | "choice" | "hotkey" | "folder"
    choices: tuple[str, ...] = ()
    hint: str = ""


HOTKEY_LABELS = {"capture_region": "Capture region", "capture_screen": "Capture screen",
                 "record_region": "Record region", "stop_recording": "Stop recording",
                 "pause_recording": "Pause / resume recording", "copy_text": "Copy text from region",
                 "capture_window": "Capture active window"}


def hotkey_fields() -> list[FieldSpec]:
    """One recorder per ``[hotkeys]`` setting the schema has (new ones appear by themselves)."""
    return [FieldSpec(f"hotkeys.{f.name}", HOTKEY_LABELS.get(f.name, f.name.replace("_", " ").capitalize()),
                      "hotkey") for f in dataclasses.fields(HotkeySettings)]


TABS: dict[str, list[FieldSpec]] = {
    "General": [
        FieldSpec("notifications.enabled", "Show notifications", "bool", hint="takes effect after a restart"),
        FieldSpec("notifications.progress", "Show upload progress", "bool"),
    ],
    "Hotkeys": hotkey_fields(),
    "Capture": [
        FieldSpec("capture.fps", "Frames per second", "text", hint="1..120"),
        FieldSpec("capture.bitrate", "Video bitrate (bit/s)", "text"),
        FieldSpec("capture.format", "Recording format", "choice", ("webm", "mp4", "gif"),
                  hint="mp4 plays on more devices; gif: short clips, at most 60 s, no sound"),
        FieldSpec("capture.audio", "Sound", "choice", ("auto", "none", "mic", "system", "both")),
        FieldSpec("capture.cursor", "Record the mouse pointer", "bool"),
        FieldSpec("capture.countdown", "Countdown (seconds)", "text", hint="0..10"),
        FieldSpec("capture.max_duration", "Longest recording (seconds)", "text", hint="0 = no limit"),
        FieldSpec("capture.window_frame", "Window capture includes title bar and borders", "bool"),
        FieldSpec("capture.webcam", "Webcam bubble in recordings", "bool"),
        FieldSpec("capture.webcam_corner", "Webcam bubble corner", "choice",
                  ("bottom-right", "bottom-left", "top-right", "top-left")),
        FieldSpec("capture.webcam_device", "Webcam", "text", hint="empty = the first camera (/dev/video0)"),
        FieldSpec("upload.save_dir", "Save captures in", "folder", hint="empty = the default folder"),
    ],
    "Upload/Server": [
        FieldSpec("server.url", "Server URL", "text", hint="empty = the embedded server on this computer"),
        FieldSpec("server.embedded_port", "Embedded server port", "text"),
        FieldSpec("upload.auto_upload", "Upload captures at once", "bool"),
        FieldSpec("upload.keep_local_copy", "Keep a local copy", "bool"),
        FieldSpec("upload.expires", "Delete uploads on the server after", "text",
                  hint="7d, 12h, 30m, 2w; empty or never = keep them"),
    ],
}
RESTART_SECTIONS = {"server": "the server", "notifications": "notifications"}


def all_fields() -> list[FieldSpec]:
    return [spec for specs in TABS.values() for spec in specs]


def current_values(settings: Any) -> dict[str, Any]:
    """Each field's value in ``settings`` (booleans as bool, everything else as the text the field shows)."""
    out = {}
    for spec in all_fields():
        value = config.get_value(settings, spec.key)
        out[spec.key] = value if isinstance(value, bool) else str(value)
    return out


def problem(key: str, value: Any) -> str | None:
    """The schema's complaint about ``value`` (text is parsed as ``config set`` parses it), in ``config set``'s
    words ("capture.fps = 500: must be between 1 and 120"), or None."""
    typed = config.parse_value(key, value) if isinstance(value, str) else value
    reason = setting_field(key)[1].metadata["validator"](typed)
    return None if reason is None else f"{key} = {show_value(typed)}: {reason}"


def hotkey_conflicts(values: dict[str, Any], changed: str | None = None) -> dict[str, str]:
    """``{key: message}`` for each hotkey that uses the combination of another (the one refused is the one being
    changed, ``changed``, else the later one), as ``config set`` says it."""
    given = {key.split(".", 1)[1]: v for key, v in values.items()
             if key.startswith("hotkeys.") and problem(key, v) is None}
    last = changed.split(".", 1)[1] if changed else None
    return {key: f"{key} = {show_value(value)}: {reason}"
            for key, value, reason in hotkey_clashes(given, last=last if last in given else None)}


def problems(values: dict[str, Any], changed: str | None = None) -> dict[str, str]:
    """Every field's problem, hotkey clashes included."""
    found = {key: p for key, value in values.items() if (p := problem(key, value)) is not None}
    for key, message in hotkey_conflicts(values, changed).items():
        found.setdefault(key, message)
    return found


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in after.items() if before.get(key) != value}


def needs_restart(changed_keys: list[str] | dict[str, Any]) -> list[str]:
    """What a running app only picks up after a restart (hotkeys and capture settings apply at once)."""
    sections = {key.split(".", 1)[0] for key in changed_keys}
    return [RESTART_SECTIONS[s] for s in RESTART_SECTIONS if s in sections]
