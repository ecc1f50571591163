"""Linux (X11) clipboard via ``xclip`` (text and image/png), with a Tk fallback for text.

X11 clipboard data is served by its owner process, so something must stay alive: ``xclip`` forks a small
server that keeps the selection until another client takes it. Its stdout/stderr are sent to /dev/null so the
forked child does not hold our pipes open (``subprocess.run`` would otherwise wait for it forever).

xclip's parent returns before its forked child has taken the selection, so two quick copies can race and leave the
older one on the clipboard (seen under load: copy v1, v2 → the clipboard held v1). Each copy therefore waits, bounded
by ``timeout``, until the clipboard reads back what was copied.
Threading: stateless; callable from any thread.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from typing import Any, Callable

Runner = Callable[..., Any]


class ClipboardError(RuntimeError):
    pass


class XclipClipboard:
    name = "xclip"

    def __init__(self, *, runner: Runner = subprocess.run, timeout: float = 5.0, selection: str = "clipboard",
                 also_primary: bool = False) -> None:
        self._run = runner
        self.timeout = timeout
        self.selection = selection
        self.also_primary = also_primary

    def _copy(self, data: bytes, target: str | None, selection: str) -> None:
        cmd = ["xclip", "-selection", selection, "-i"]
        if target:
            cmd += ["-t", target]
        try:
            result = self._run(cmd, input=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClipboardError(f"xclip failed: {exc}") from exc
        if result.returncode != 0:
            raise ClipboardError(f"xclip exited with {result.returncode} (is DISPLAY set and the X server up?)")
        self._wait_until_owned(data, target, selection)

    def _wait_until_owned(self, data: bytes, target: str | None, selection: str) -> None:
        cmd = ["xclip", "-selection", selection, "-o"] + (["-t", target] if target else [])
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                back = self._run(cmd, capture_output=True, timeout=self.timeout, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ClipboardError(f"xclip failed: {exc}") from exc
            if back.returncode == 0 and back.stdout == data:
                return
            if time.monotonic() > deadline:
                raise ClipboardError("the clipboard did not take the new content (another program owns it?)")
            time.sleep(0.01)

    def copy_text(self, text: str) -> None:
        self._copy(text.encode("utf-8"), "UTF8_STRING", self.selection)
        if self.also_primary:
            self._copy(text.encode("utf-8"), "UTF8_STRING", "primary")

    def copy_image_png(self, png: bytes) -> None:
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("copy_image_png needs PNG bytes")
        self._copy(png, "image/png", self.selection)


class TkClipboard:
    """Text-only fallback through Tk. Must be called on the Tk thread (post it through the dispatcher); the
    clipboard content lives as long as the Tk root (the tray app's hidden root lives for the whole session)."""

    name = "tk"

    def __init__(self, root: Any) -> None:
        self.root = root

    def copy_text(self, text: str) -> None:
        self.root.clipboard_clear()
        self.root.clipboard_append(text)
        self.root.update_idletasks()

    def copy_image_png(self, png: bytes) -> None:
        raise ClipboardError("copying images needs xclip (install the 'xclip' package)")


def create(*, root: Any = None, **kwargs: Any) -> Any:
    if shutil.which("xclip"):
        return XclipClipboard(**kwargs)
    if root is not None:
        return TkClipboard(root)
    raise ClipboardError("no clipboard tool: install 'xclip' (or pass the Tk root for text-only copying)")
