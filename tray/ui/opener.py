"""Open a file or folder with the desktop's own program (the captures folder, the settings file), and show a file
selected in its folder (the History window's "Show in folder").

Threading: :func:`open_path` and :func:`show_in_folder` on the Tk thread; a short-lived thread waits for the opener
(no zombie child) or asks the file manager, and only posts what it found.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tray.ui.context import TrayContext

log = logging.getLogger(__name__)


def open_path(ctx: TrayContext, path: Path) -> None:
    """Hand ``path`` to the desktop's opener. When there is no opener, or it found no program for the path
    (xdg-open exits 3 or 4, silently), the user is told."""
    opener = {"darwin": ["open"], "win32": ["explorer"]}.get(sys.platform, ["xdg-open"])
    hint = " (package xdg-utils)" if opener == ["xdg-open"] else ""
    if shutil.which(opener[0]) is None:
        ctx.notify_warning("No program to open it", f"{opener[0]} was not found{hint}, so nothing can open "
                           f"{path}. Open it from a file manager.")
        return
    try:
        child = subprocess.Popen(opener + [str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    except OSError as exc:
        ctx.notify_warning("No program to open it", f"{opener[0]} could not start ({exc}), so nothing can "
                           f"open {path}. Open it from a file manager.")
        return

    def reap() -> None:
        code = child.wait()
        if code != 0 and sys.platform != "win32":  # explorer.exe exits 1 even when it opened the folder
            ctx.post(lambda: ctx.notify_warning(
                "Nothing opened", f"{opener[0]} found no program to open {path} (exit status {code}). "
                                  "Open it from a file manager, or set a default application for it."))

    threading.Thread(target=reap, name=f"reap-{opener[0]}-{child.pid}", daemon=True).start()


def show_in_folder(ctx: TrayContext, path: Path, *, reveal: Any = None) -> None:
    """Show ``path`` selected in the file manager (the OS adapter ``tray_platform.<os>.reveal``; ``reveal``: one to
    use instead); when there is none to ask (no ``org.freedesktop.FileManager1`` on the session bus), or the file
    is gone, open its folder (:func:`open_path`)."""
    path = Path(path)
    if not path.exists():
        open_path(ctx, path.parent)
        return

    def ask() -> None:
        revealed = False
        try:
            backend = reveal
            if backend is None:
                from tray_platform.base import choose_backend

                backend = choose_backend("reveal", env_var="SNAPLARK_REVEAL").backend
            revealed = bool(backend.reveal(path))
        except Exception as exc:  # noqa: BLE001 - no adapter for this OS: the folder will do
            log.info("cannot show %s selected (%s): opening its folder", path, exc)
        if not revealed:
            ctx.post(lambda: open_path(ctx, path.parent))

    threading.Thread(target=ask, name="show-in-folder", daemon=True).start()
