"""Open a file or folder with the desktop's own program (the captures folder, the settings file).

Threading: :func:`open_path` on the Tk thread; a short-lived thread waits for the opener (no zombie child) and only
posts what it found.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
from pathlib import Path

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
