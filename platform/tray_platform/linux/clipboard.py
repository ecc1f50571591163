"""Linux (X11) clipboard via ``xclip`` (text and image/png), with a Tk fallback for text.

X11 clipboard data is served by its owner process, so something must stay alive: ``xclip`` forks a small
server that keeps the selection until another client takes it. Its stdout/stderr are sent to /dev/null so the
forked child does not hold our pipes open (``subprocess.run`` would otherwise wait for it forever).

xclip's parent returns before its forked child has taken the selection, so two quick copies can race and leave the
older one on the clipboard (seen under load: copy v1, v2 → the clipboard held v1). Each copy therefore waits, bounded
by ``timeout``, until the clipboard reads back what was copied.
Threading: stateless; callable from any thread.

A long-lived process (the tray app) can own the text itself: :class:`InProcessClipboard` (``create(root=...,
in_process=True)``) claims the CLIPBOARD selection with its Tk root, whose main loop answers every paste for the
whole session -- how Flameshot and ShareX do it -- so copying a link starts no process (~0.4 ms instead of two
``xclip`` runs, ~10-15 ms and more under load). Images still go through xclip; at exit :meth:`InProcessClipboard.
hand_off` passes text the app still owns to xclip, so the last link stays pasteable after the app quits. A
short-lived process (``snaplark shot``, the CLI's windows) keeps :class:`XclipClipboard`: its forked owner outlives it.
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


class InProcessClipboard:
    """The tray app's clipboard: text owned by its Tk root through ``selection own``/``selection handle`` (Tk's
    loop answers every paste; no process started per copy), images through ``images`` (an
    :class:`XclipClipboard`; None: images raise). ``selection own`` always asks the X server, so a copy wins even
    right after xclip took the clipboard for an image and Tk has not read the SelectionClear yet; its ``-command``
    tells us when another program takes the clipboard. Tk thread only."""

    name = "tk+xclip"

    def __init__(self, root: Any, images: XclipClipboard | None) -> None:
        self.root = root
        self.images = images
        self._text: str | None = None  # the text we serve (None: nothing of ours on the clipboard)
        self._owned = False
        self._serve_cmd = root.register(self._serve)
        self._lost_cmd = root.register(self._lost)
        # a STRING handler also answers UTF8_STRING (Tk adds it, UTF-8 encoded); TARGETS/TIMESTAMP are Tk's own
        root.tk.call("selection", "handle", "-selection", "CLIPBOARD", "-type", "STRING", root, self._serve_cmd)

    def _serve(self, offset: str, max_chars: str) -> str:
        start = int(offset)
        return (self._text or "")[start:start + int(max_chars)]

    def _lost(self) -> None:
        self._owned = False

    def copy_text(self, text: str) -> None:
        self._text = text
        self.root.tk.call("selection", "own", "-command", self._lost_cmd, "-selection", "CLIPBOARD", self.root)
        self._owned = True  # after the call: owning again first runs the previous claim's -command
        # a request with a reply flushes Xlib's queue and waits for the server: once this returns the server has
        # made us the owner, so a paste right after gets this text
        self.root.winfo_pointerxy()

    def owns_text(self) -> bool:
        """Whether our text is still on the clipboard (as far as Tk's loop has heard: another program's copy is
        noticed when the loop reads its SelectionClear)."""
        return self._owned

    def copy_image_png(self, png: bytes) -> None:
        if self.images is None:
            raise ClipboardError("copying images needs xclip (install the 'xclip' package)")
        # xclip reads its copy back; until its forked child owns the clipboard that read goes to the owner before
        # -- us, whose loop is blocked right here: let go first (the read then finds no owner and tries again)
        self.release()
        self.images.copy_image_png(png)
        self._text = None

    def release(self) -> None:
        """Stop owning the clipboard, if we do (Tk thread). "selection clear" clears whoever owns it on the X
        server, so only while we believe we own it: what another program copied since is left alone."""
        if self._owned:
            self.root.tk.call("selection", "clear", "-selection", "CLIPBOARD", "-displayof", self.root)
            self._owned = False
            self.root.winfo_pointerxy()  # done on the server before anyone asks

    def hand_off(self) -> bool:
        """The app is quitting: if its text is still on the clipboard, give it to xclip (which outlives us), so it
        stays pasteable. Call on the Tk thread once its main loop has ended (Tk no longer answers pastes).
        Returns True when handed off."""
        if self._text is None or self.images is None:
            return False
        self.root.winfo_pointerxy()  # a round trip: every SelectionClear the server sent before is read now ...
        import _tkinter

        while self.root.tk.dooneevent(_tkinter.WINDOW_EVENTS | _tkinter.DONT_WAIT):
            pass  # ... and handled: the window events only (the loop has ended; nothing else of the app runs)
        if not self._owned:  # another program copied something since: that stays
            return False
        self.release()  # Tk's loop no longer answers: xclip's read-back must not be asked of us
        self.images.copy_text(self._text)
        return True


def create(*, root: Any = None, in_process: bool = False, **kwargs: Any) -> Any:
    """xclip, or Tk for text when xclip is missing. ``in_process`` (the tray app, whose Tk ``root`` lives and runs
    its loop for the whole session): text owned by this process (:class:`InProcessClipboard`)."""
    xclip = XclipClipboard(**kwargs) if shutil.which("xclip") else None
    if in_process and root is not None:
        return InProcessClipboard(root, xclip)
    if xclip is not None:
        return xclip
    if root is not None:
        return TkClipboard(root)
    raise ClipboardError("no clipboard tool: install 'xclip' (or pass the Tk root for text-only copying)")
