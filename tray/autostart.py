"""Start Snaplark at login through the OS's own mechanism: which adapter and which command.

The adapter comes from ``tray_platform.<os>.autostart`` (XDG autostart entry, LaunchAgent, HKCU Run key);
``SNAPLARK_AUTOSTART`` names another backend package (e.g. ``linux`` on any OS, for tests). The command registered
is the running launcher: the PyInstaller binary itself when frozen (or the AppImage), else the ``snaplark`` script
on PATH, else ``python -m tray``. Used by ``snaplark autostart`` (:mod:`tray.commands.autostart`) and the Settings
window's "Start at login" (:mod:`tray.ui.settings_window`).

Threading: the functions share no state; an adapter touches one file (or registry value) per call.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

ENV_BACKEND = "SNAPLARK_AUTOSTART"


def launcher_command() -> list[str]:
    """The argv that starts this installation of Snaplark's tray app."""
    appimage = os.environ.get("APPIMAGE")
    if appimage and os.path.isabs(appimage):
        return [appimage]
    if getattr(sys, "frozen", False):
        return [os.path.abspath(sys.executable)]
    script = shutil.which("snaplark")
    if script:
        return [os.path.abspath(script)]
    return [os.path.abspath(sys.executable), "-m", "tray"]


def create_autostart(**kwargs: Any) -> Any:
    """The OS's autostart adapter (``enable(argv)``, ``disable()``, ``is_enabled()``, ``command()``)."""
    from tray_platform.base import choose_backend

    return choose_backend("autostart", env_var=ENV_BACKEND, **kwargs).backend
