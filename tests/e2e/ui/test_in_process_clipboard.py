"""The tray app's clipboard (``create(root=..., in_process=True)``): a link is owned by the app's Tk root -- no
process started per copy -- and another X client (``xclip -o``) pastes it while the Tk loop runs; images still go
through xclip, in any order with the text; at exit the text is handed to xclip and stays pasteable."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image

from tests.e2e.ui.conftest import pump
from tests.procutil import need_tool
from tray_platform.linux.clipboard import InProcessClipboard, XclipClipboard, create

pytestmark = pytest.mark.e2e


class CountingRunner:
    """subprocess.run that counts the processes it starts (the real ones: xclip on the test's Xvfb)."""

    def __init__(self):
        self.started: list[list[str]] = []

    def __call__(self, argv, **kwargs):
        self.started.append(list(argv))
        return subprocess.run(argv, **kwargs)


class LateXclipRunner(CountingRunner):
    """xclip whose forked owner takes the clipboard ``delay`` s late (as under load): ``xclip -i`` starts in the
    background behind a sleep and the call returns at once; the read-backs run as usual."""

    def __init__(self, tmp_path, delay: float = 0.5):
        super().__init__()
        self.tmp_path, self.delay, self.procs = tmp_path, delay, []

    def __call__(self, argv, **kwargs):
        if "-i" not in argv:
            return super().__call__(argv, **kwargs)
        self.started.append(list(argv))
        data = self.tmp_path / f"xclip-in-{len(self.started)}"
        data.write_bytes(kwargs["input"])
        self.procs.append(subprocess.Popen(["sh", "-c", f'sleep {self.delay}; exec "$@" < "{data}"', "sh", *argv],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return subprocess.CompletedProcess(argv, 0, b"", b"")


def paste(root, target: str = "UTF8_STRING") -> bytes:
    """What another X client reads, while this (the app's) Tk loop answers it."""
    proc = subprocess.Popen(["xclip", "-selection", "clipboard", "-o", "-t", target], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        assert pump(root, lambda: proc.poll() is not None, timeout=10), f"xclip -o -t {target} did not finish"
        return proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        proc.stdout.close()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 40)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def clipboard(tk_root):
    need_tool("xclip")
    runner = CountingRunner()
    cb = create(root=tk_root, in_process=True, runner=runner)
    assert isinstance(cb, InProcessClipboard)
    cb.runner = runner
    return cb


def test_a_link_is_owned_by_the_app_and_pasted_by_another_client(tk_root, clipboard):
    clipboard.copy_text("http://127.0.0.1:8765/s/ünï-1")
    assert clipboard.runner.started == []  # no xclip (nor anything else) per copied link
    assert paste(tk_root).decode() == "http://127.0.0.1:8765/s/ünï-1"
    assert b"UTF8_STRING" in paste(tk_root, "TARGETS")
    clipboard.copy_text("http://127.0.0.1:8765/s/second")
    assert paste(tk_root) == b"http://127.0.0.1:8765/s/second" and clipboard.owns_text()


def test_image_and_link_in_any_order_without_the_loop_running_between(tk_root, clipboard):
    """xclip takes the clipboard for an image while Tk's loop is busy (it has not read the SelectionClear yet);
    the link copied right after must still win -- and the image after that."""
    image = png()
    clipboard.copy_text("http://127.0.0.1:8765/s/before")
    clipboard.copy_image_png(image)
    clipboard.copy_text("http://127.0.0.1:8765/s/after-image")  # no Tk event processed since the image
    assert paste(tk_root) == b"http://127.0.0.1:8765/s/after-image"
    clipboard.copy_image_png(image)
    assert paste(tk_root, "image/png") == image
    assert not clipboard.hand_off()  # the image is on the clipboard: nothing of ours to hand off


def test_the_last_link_stays_pasteable_after_the_app_quits(tk_root, clipboard):
    clipboard.copy_text("http://127.0.0.1:8765/s/last")
    assert paste(tk_root) == b"http://127.0.0.1:8765/s/last"
    assert clipboard.hand_off()
    tk_root.destroy()  # the app is gone; xclip holds the link now
    out = subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", "UTF8_STRING"], capture_output=True,
                         timeout=10)
    assert out.stdout == b"http://127.0.0.1:8765/s/last"
    XclipClipboard().copy_text("")  # leave no owner of this test's link behind for the next test


def test_short_lived_processes_keep_xclip(tk_root):
    need_tool("xclip")
    assert isinstance(create(root=tk_root), XclipClipboard)  # snaplark shot --pin, the CLI's selector: xclip
    assert isinstance(create(), XclipClipboard)


def test_what_another_program_copied_last_is_not_overwritten_at_exit(tk_root, clipboard):
    """The app's loop has ended before it heard that another program took the clipboard: the hand-off must see
    that (it reads the pending SelectionClear) and leave the other program's text there."""
    clipboard.copy_text("http://127.0.0.1:8765/s/ours")
    assert paste(tk_root) == b"http://127.0.0.1:8765/s/ours"
    XclipClipboard().copy_text("the user's own text")  # no Tk event processed after this
    assert not clipboard.hand_off()
    tk_root.destroy()
    out = subprocess.run(["xclip", "-selection", "clipboard", "-o", "-t", "UTF8_STRING"], capture_output=True,
                         timeout=10)
    assert out.stdout == "the user's own text".encode()


def test_an_image_copied_while_the_app_owns_a_link_does_not_wait_on_the_app(tk_root, tmp_path):
    """xclip reads its copy back; while its forked owner is late, that read goes to the owner before it -- the app,
    whose Tk loop is blocked in this very call. The app lets go first, so the read finds no owner and tries again
    until xclip's owner answers (before: the read waited for the app until xclip's timeout, and the copy failed)."""
    need_tool("xclip")
    runner = LateXclipRunner(tmp_path)
    clipboard = create(root=tk_root, in_process=True, runner=runner, timeout=3.0)
    image = png()
    try:
        clipboard.copy_text("http://127.0.0.1:8765/s/link-first")
        clipboard.copy_image_png(image)
        assert paste(tk_root, "image/png") == image
    finally:
        for proc in runner.procs:
            proc.wait(10)
