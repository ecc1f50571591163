"""Save (Ctrl+S) without an ``on_save`` callback: the desktop's save dialog (save_chooser.py) in the captures
folder, named ``Screenshot <date> <time>.png``, then the file written atomically.

:class:`SaveFlow` belongs to one annotator window and reaches it only through the callables it is given: the PNG
to write (``export``: what the document holds when the answer comes, even if the window closed meanwhile -- the
user asked for the file), ``on_saved`` (the window marks its annotations as kept) and ``status``.

Threading: Tk thread only (the dialog's answer comes back on it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from tray import paths
from tray.ui.annotator.save_chooser import SaveChooser, choose_save_chooser, default_filename

log = logging.getLogger(__name__)


class SaveFlow:
    def __init__(self, *, save_dir: Path | None, chooser: SaveChooser | None, clock: Callable[[], float],
                 export: Callable[[], bytes], on_saved: Callable[[], None], status: Callable[[str], None]) -> None:
        self.save_dir, self.chooser, self._clock = save_dir, chooser, clock
        self._export, self._on_saved, self._status = export, on_saved, status
        self.saving = False  # a save dialog is open

    def ask(self, parent: Any) -> None:
        """Open the save dialog over ``parent`` (once: a second Ctrl+S while it is open does nothing)."""
        if self.saving:
            return
        if self.chooser is None:
            choice = choose_save_chooser()
            for name, reason in choice.skipped.items():
                log.info("save dialog %s not used: %s", name, reason)
            self.chooser = choice.chooser
        folder = self.default_folder()
        filename = default_filename(self._clock())
        log.info("save dialog (%s) opened in %s with %r", self.chooser.name, folder, filename)
        self.saving = True
        self.chooser.ask(parent, folder, filename, self.chosen)

    def default_folder(self) -> Path:
        """Where Save starts: ``save_dir`` or the captures folder, created (0700) if missing; home if it cannot
        be."""
        folder = Path(self.save_dir) if self.save_dir is not None else paths.captures_dir()
        try:
            return paths.ensure_private_dir(folder, ours=False)
        except OSError as exc:
            log.warning("cannot create %s for the save dialog (%s); starting in the home folder", folder, exc)
            return Path.home()

    def chosen(self, path: Path | None) -> None:
        """The save dialog's answer (Tk thread)."""
        self.saving = False
        if path is None:
            self._status("Not saved")
            return
        png = self._export()
        try:
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(png)
            tmp.replace(path)
        except OSError as exc:
            log.warning("cannot save the screenshot to %s: %s", path, exc)
            self._status(f"Not saved: {exc.strerror or exc}")
            return
        log.info("screenshot saved to %s", path)
        self._on_saved()
        self._status(f"Saved {path}")
