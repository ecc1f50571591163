"""Which kind of graphical session this process runs in: X11 or Wayland (or none), from the environment alone.

Rules, first match wins (no connection is opened, so this is cheap and works with no display):

1. ``SNAPLARK_SESSION`` = ``x11`` or ``wayland``: the user's (or a test's) override.
2. ``XDG_SESSION_TYPE`` = ``wayland``, or ``WAYLAND_DISPLAY`` set: Wayland. A Wayland session usually also sets
   ``DISPLAY`` (XWayland), but through XWayland mss sees only X11 windows (native ones come out black) and pynput
   hears only keys typed into X11 windows, so Wayland wins.
3. ``XDG_SESSION_TYPE`` = ``x11``, or ``DISPLAY`` set: X11 (the path that existed before Wayland support, unchanged).
4. Otherwise: none (a console, ssh, CI without Xvfb).

``XDG_SESSION_TYPE=wayland`` with no ``WAYLAND_DISPLAY`` (e.g. a shell whose environment lost it) still counts as
Wayland: the portals live on the session bus, not on the Wayland socket, so screenshots and recording still work.

The per-concern ``create()`` functions of ``tray_platform.linux`` ask :func:`detect_session` and hand out the
Wayland adapters (portals, StatusNotifierItem) or the X11 ones (mss, pynput, XEmbed) behind the same Protocols.
"""

from __future__ import annotations

import enum
import os
from typing import Mapping

OVERRIDE_VAR = "SNAPLARK_SESSION"


class SessionKind(enum.Enum):
    X11 = "x11"
    WAYLAND = "wayland"
    NONE = "none"


class BadSessionOverride(ValueError):
    """``SNAPLARK_SESSION`` holds something other than ``x11`` or ``wayland``."""


def detect_session(env: Mapping[str, str] | None = None) -> SessionKind:
    env = os.environ if env is None else env
    override = env.get(OVERRIDE_VAR, "").strip().lower()
    if override:
        try:
            kind = SessionKind(override)
        except ValueError:
            raise BadSessionOverride(f"{OVERRIDE_VAR}={env[OVERRIDE_VAR]!r}: use 'x11' or 'wayland'") from None
        if kind is SessionKind.NONE:
            raise BadSessionOverride(f"{OVERRIDE_VAR}={env[OVERRIDE_VAR]!r}: use 'x11' or 'wayland'")
        return kind
    session_type = env.get("XDG_SESSION_TYPE", "").strip().lower()
    if session_type == "wayland" or env.get("WAYLAND_DISPLAY"):
        return SessionKind.WAYLAND
    if session_type == "x11" or env.get("DISPLAY"):
        return SessionKind.X11
    return SessionKind.NONE


def is_wayland(env: Mapping[str, str] | None = None) -> bool:
    return detect_session(env) is SessionKind.WAYLAND
