"""Show a file selected in the Finder: ``open -R PATH`` (``-R``: reveal in Finder instead of opening).

``open`` is reached through the injected ``runner`` (``runner(argv) -> returncode``), so the exact command is checked
by tests on any OS. Threading: blocking (waits for ``open``, which returns at once); call it off the UI thread.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


def run_open(argv: list[str]) -> int:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("%s failed: %s", argv[0], exc)
        return 127


class FinderReveal:
    name = "macos-open-R"

    def __init__(self, *, runner: Callable[[list[str]], int] = run_open) -> None:
        self._run = runner

    def reveal(self, path: Path, startup_id: str = "") -> bool:
        """True when the Finder was asked to show ``path`` selected (False: the caller opens the folder)."""
        return self._run(["open", "-R", str(Path(path).absolute())]) == 0


def create(**kwargs: object) -> FinderReveal:
    return FinderReveal(**kwargs)  # type: ignore[arg-type]
