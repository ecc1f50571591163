"""What the annotator remembers between its windows: the last tool, colour and stroke width.

A small JSON file in the data dir (``annotator.json`` next to the journal), not ``config.toml``: these are not
settings the user writes, they are where the user left off. A missing, unreadable or malformed file (or one field
of it) means the default for that field, with a warning in the log; it never stops the annotator from opening.

Threading: :class:`AnnotatorPrefsStore` does file I/O only in ``load``/``save``, which the annotator calls on the
Tk thread; the constructor touches nothing. Not shared between threads.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import ImageColor

from tray import paths
from tray.ui.annotator.tools.base import ToolKind

log = logging.getLogger(__name__)

PREFS_FILENAME = "annotator.json"
SCHEMA_VERSION = 1
MIN_WIDTH, MAX_WIDTH = 1, 24

#: tools a new window does not start with: the eraser is a one-off correction and the select tool edits what is
#: drawn; neither is where a new picture begins
NOT_REMEMBERED = frozenset({ToolKind.ERASER, ToolKind.SELECT})


@dataclass(frozen=True)
class AnnotatorPrefs:
    tool: ToolKind = ToolKind.ARROW
    color: str = "#e53935"
    width: int = 4

    def to_json(self) -> str:
        return json.dumps({"schema_version": SCHEMA_VERSION, "tool": self.tool.key, "color": self.color,
                           "width": self.width})

    @classmethod
    def from_data(cls, data: Any, source: str = "annotator prefs") -> "AnnotatorPrefs":
        """Each valid field of ``data`` over the defaults; each invalid one is logged and ignored."""
        prefs = cls()
        if not isinstance(data, dict):
            log.warning("%s: not a JSON object; using the defaults", source)
            return prefs
        tool = data.get("tool")
        if tool is not None:
            try:
                kind = ToolKind[str(tool).upper()]
            except KeyError:
                log.warning("%s: unknown tool %r; using %s", source, tool, prefs.tool.key)
            else:
                if kind not in NOT_REMEMBERED:
                    prefs = replace(prefs, tool=kind)
        colour = data.get("color")
        if colour is not None:
            try:
                r, g, b = ImageColor.getrgb(str(colour))[:3]
            except ValueError:
                log.warning("%s: bad colour %r; using %s", source, colour, prefs.color)
            else:
                prefs = replace(prefs, color=f"#{r:02x}{g:02x}{b:02x}")
        width = data.get("width")
        if width is not None:
            if isinstance(width, int) and not isinstance(width, bool) and MIN_WIDTH <= width <= MAX_WIDTH:
                prefs = replace(prefs, width=width)
            else:
                log.warning("%s: bad width %r (%d..%d); using %d", source, width, MIN_WIDTH, MAX_WIDTH, prefs.width)
        return prefs


class AnnotatorPrefsStore:
    """``annotator.json`` at ``path`` (default: in :func:`tray.paths.data_dir`, resolved when first used)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        return self._path if self._path is not None else paths.data_dir() / PREFS_FILENAME

    def load(self) -> AnnotatorPrefs:
        path = self.path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return AnnotatorPrefs()
        except OSError as exc:
            log.warning("cannot read %s (%s); using the default tool, colour and width", path, exc)
            return AnnotatorPrefs()
        try:
            data = json.loads(text)
        except ValueError as exc:
            log.warning("%s is not valid JSON (%s); using the default tool, colour and width", path, exc)
            return AnnotatorPrefs()
        return AnnotatorPrefs.from_data(data, str(path))

    def save(self, prefs: AnnotatorPrefs) -> None:
        """Write atomically (a temporary file renamed over the old one), 0600 in a 0700 directory. A failure is
        logged, not raised: losing the remembered colour must not break annotating."""
        path = self.path
        try:
            paths.ensure_private_dir(path.parent)
            tmp = path.with_name(path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, paths.PRIVATE_FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(prefs.to_json())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot remember the annotator's tool and colour in %s: %s", path, exc)
