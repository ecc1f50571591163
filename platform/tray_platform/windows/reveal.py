"""Show a file selected in Explorer: ``explorer /select,"PATH"``.

Explorer parses its own command line: the path must be quoted after the comma (``/select,"C:\\a b\\c.png"``), which
``subprocess``'s list quoting does not do (it would quote the whole ``/select,...`` argument and Explorer would open
Documents), so the command line is given as one string. Explorer exits 1 even when it showed the file, so its exit
status says nothing: starting it is success. The start goes through the injected ``starter`` (``starter(command
line) -> None``, raising ``OSError``), so the command line is checked by tests on any OS.

Threading: returns once Explorer is started (a short-lived thread reaps it: no zombie handle); any thread.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


def start_explorer(command_line: str) -> None:
    child = subprocess.Popen(command_line, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    threading.Thread(target=child.wait, name=f"reap-explorer-{child.pid}", daemon=True).start()


def select_command(path: Path) -> str:
    """The command line that shows ``path`` selected."""
    return f'explorer /select,"{Path(path).absolute()}"'


class ExplorerReveal:
    name = "windows-explorer-select"

    def __init__(self, *, starter: Callable[[str], None] = start_explorer) -> None:
        self._start = starter

    def reveal(self, path: Path, startup_id: str = "") -> bool:
        """True when Explorer was started to show ``path`` selected (False: the caller opens the folder)."""
        try:
            self._start(select_command(path))
        except OSError as exc:
            log.warning("explorer could not start: %s", exc)
            return False
        return True


def create(**kwargs: object) -> ExplorerReveal:
    return ExplorerReveal(**kwargs)  # type: ignore[arg-type]
