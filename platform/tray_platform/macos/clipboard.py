"""macOS clipboard: ``pbcopy`` for text, ``osascript`` (``«class PNGf»``) for PNG images.
Threading: stateless; callable from any thread."""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import Any, Callable

Runner = Callable[..., Any]

IMAGE_SCRIPT = ["on run argv", "set the clipboard to (read (POSIX file (item 1 of argv)) as «class PNGf»)", "end run"]


class ClipboardError(RuntimeError):
    pass


class MacClipboard:
    name = "macos"

    def __init__(self, *, runner: Runner = subprocess.run, timeout: float = 5.0, **_: Any) -> None:
        self._run = runner
        self.timeout = timeout

    def _check(self, result: Any, what: str) -> None:
        if getattr(result, "returncode", 0) != 0:
            raise ClipboardError(f"{what} failed ({result.returncode}): {getattr(result, 'stderr', b'')!r}")

    def copy_text(self, text: str) -> None:
        env = dict(os.environ, LANG="en_US.UTF-8")  # pbcopy decodes with the locale; force UTF-8
        result = self._run(["pbcopy"], input=text.encode("utf-8"), capture_output=True, timeout=self.timeout,
                           check=False, env=env)
        self._check(result, "pbcopy")

    def copy_image_png(self, png: bytes) -> None:
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("copy_image_png needs PNG bytes")
        fd, path = tempfile.mkstemp(prefix="snaplark-clip-", suffix=".png")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(png)
            cmd = ["osascript"]
            for line in IMAGE_SCRIPT:
                cmd += ["-e", line]
            result = self._run(cmd + [path], capture_output=True, timeout=self.timeout, check=False)
            self._check(result, "osascript")
        finally:
            os.unlink(path)


def create(*, in_process: bool = False, **kwargs: Any) -> MacClipboard:
    """``in_process`` (the tray app asks for its own copies to be served in-process) changes nothing here: the
    OS clipboard keeps what is copied after this process ends."""
    return MacClipboard(**kwargs)
