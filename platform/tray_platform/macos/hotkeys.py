"""macOS hotkey adapter: pynput (Quartz event tap; needs the Accessibility / Input Monitoring permission -- a
missing permission makes ``start_listener`` fail and the caller reports it). macOS offers no API to ask whether
another app uses a combination, so ``find_grab_conflicts`` reports nothing (documented limitation)."""

from __future__ import annotations

from tray_platform.fallback.hotkeys import find_grab_conflicts, is_x11, start_listener, stop_listener  # noqa: F401
