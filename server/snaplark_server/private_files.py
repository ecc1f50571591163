"""Files only the server's own user may read: the data directory 0700, the database and stored objects 0600.

The data directory holds every user's uploads and the token hashes, so nothing in it is for other local users.
Modes are set explicitly when a file or directory is created (``os.open`` / ``mkdir`` with a mode), so they do not
depend on the umask of whatever process runs the server -- the tray app embeds it as a thread, tests run it
in-process. The command line server additionally runs under umask 077 (`cli.main`), which also covers files
that libraries create (SQLite's WAL and shared-memory files take the database file's mode anyway).

A data directory or database left 0755/0644 by an older version is tightened when the server opens it.
Stored objects inside it are not walked (that could take long); the 0700 directory already keeps them private.

Threading: plain functions, safe from any thread.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows


def make_private_dir(path: Path) -> None:
    """``mkdir -p`` with mode 0700 for the last component; an existing directory readable by others is
    tightened (parents are left alone: ``~/.local/share`` is not ours)."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten(path, DIR_MODE)


def create_private_file(path: Path) -> BinaryIO:
    """A new file opened for writing, mode 0600 whatever the umask; fails if ``path`` exists (callers use
    random temporary names)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC | _O_BINARY, FILE_MODE)
    return os.fdopen(fd, "wb")


def ensure_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist; tighten it if it is readable by others."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC | _O_BINARY, FILE_MODE)
    except FileExistsError:
        tighten(path, FILE_MODE)
    else:
        os.close(fd)


def tighten(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` if group or others have any access to it (no-op on Windows)."""
    if os.name != "posix":
        return
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
        if current & 0o077:
            os.chmod(path, mode)
            log.info("%s was mode %o; now %o (readable by its owner only)", path, current, mode)
    except FileNotFoundError:
        pass
    except PermissionError as exc:  # e.g. a data dir owned by another user: say so, keep serving
        log.warning("cannot make %s private: %s", path, exc)
