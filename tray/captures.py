"""Where captures are kept and what they are called: one file-name scheme and one atomic save for the tray app and
the CLI (``snaplark shot``, ``snaplark record``)."""

from __future__ import annotations

import time
from pathlib import Path


def _ms(now: float | None) -> int:
    return int((now if now is not None else time.time()) * 1000)


def screenshot_path(folder: Path, now: float | None = None) -> Path:
    """``<folder>/screenshot-<epoch ms>.png``."""
    return Path(folder) / f"screenshot-{_ms(now)}.png"


def recording_path(folder: Path, now: float | None = None, ext: str = ".webm") -> Path:
    """``<folder>/recording-<epoch ms><ext>``."""
    return Path(folder) / f"recording-{_ms(now)}{ext}"


def save_atomically(data: bytes, path: Path) -> Path:
    """Write ``data`` to ``path`` through a ``.part`` file renamed over it: a reader never sees half a capture."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


CAPTURE_PREFIXES = ("screenshot-", "recording-")
CAPTURE_SUFFIXES = {".png": "screenshot", ".webm": "video", ".mp4": "video"}


def list_captures(folder: Path) -> list[tuple[Path, str, float, int]]:
    """The captures in ``folder`` named by this module's scheme: ``(path, kind, mtime, size)``, any order; a missing
    folder has none. ``.part`` files (a save under way) are left out."""
    import os

    found = []
    try:
        entries = os.scandir(folder)
    except OSError:
        return []
    with entries:
        for entry in entries:
            name = entry.name
            kind = CAPTURE_SUFFIXES.get(os.path.splitext(name)[1].lower())
            if kind is None or not name.startswith(CAPTURE_PREFIXES):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            found.append((Path(entry.path), kind, st.st_mtime, st.st_size))
    return found
