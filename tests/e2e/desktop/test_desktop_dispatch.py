"""Hotkeys and notification actions reach the Tk thread through the real UiDispatcher; Tk clipboard fallback.

The Tk root lives on the test's thread (the "main thread"); we pump ``root.update()`` in bounded loops."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from tray.ui.dispatcher import UiDispatcher
from tray.ui.hotkeys import GlobalHotkeys
from tray.ui.notifications import ProgressNotifier
from tray.upload.events import StateChanged
from tray.upload.state import UploadState
from tray_platform.linux.clipboard import TkClipboard
from tray_platform.linux.notify import DBusNotifier

pytestmark = pytest.mark.e2e


@pytest.fixture
def tk_dispatcher(desktop_display):
    import tkinter as tk

    root = tk.Tk()
    root.withdraw()
    dispatcher = UiDispatcher(root, interval_ms=5)
    dispatcher.start()
    yield root, dispatcher
    dispatcher.stop()
    root.update()
    # Hand the CLIPBOARD selection to xclip: a destroyed root whose events nobody pumps would otherwise stay the
    # owner and make later readers (xclip -o) wait for an answer that never comes.
    subprocess.run(["xclip", "-selection", "clipboard", "-i"], input=b"", stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=5)
    root.destroy()


def pump_until(root, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        root.update()
        time.sleep(0.01)


def test_hotkey_command_runs_on_tk_thread(tk_dispatcher):
    root, dispatcher = tk_dispatcher
    ran = []
    gh = GlobalHotkeys({"capture_region": ("<ctrl>+<alt>+s",
                                           lambda: ran.append((dispatcher.on_ui_thread(), root.winfo_exists())))},
                       dispatcher.post, os_name="linux")
    assert gh.start() == []
    try:
        subprocess.run(["xdotool", "key", "ctrl+alt+s"], check=True, timeout=10)
        pump_until(root, lambda: ran, 5, "hotkey command on the Tk thread")
        assert ran == [(True, 1)]
    finally:
        gh.stop()


def test_copy_link_action_runs_on_tk_thread_and_tk_clipboard_serves_it(tk_dispatcher, notification_service):
    root, dispatcher = tk_dispatcher
    clipboard = TkClipboard(root)
    threads = []

    def copy(url: str) -> None:
        threads.append(threading.current_thread() is threading.main_thread())
        clipboard.copy_text(url)

    notifier = DBusNotifier().open()
    try:
        p = ProgressNotifier(notifier, time.monotonic, copy_link=copy, post=dispatcher.post)
        p(StateChanged(1, "screenshot", UploadState.UPLOADING, UploadState.COMPLETED,
                       url="http://127.0.0.1:8765/s/tk-fallback"))
        call = notification_service.wait_for(lambda c: c and c[-1])
        notification_service.invoke_action(call.returned_id, "copy")
        pump_until(root, lambda: threads, 5, "copy action on the Tk thread")
        assert threads == [True]
        # another X client reads the clipboard while Tk (the owner) keeps serving it
        reader = subprocess.Popen(["xclip", "-selection", "clipboard", "-o"], stdout=subprocess.PIPE)
        try:
            pump_until(root, lambda: reader.poll() is not None, 5, "xclip -o to read the Tk clipboard")
            assert reader.stdout.read().decode() == "http://127.0.0.1:8765/s/tk-fallback"
        finally:
            if reader.poll() is None:
                reader.kill()
            reader.wait(timeout=5)
            reader.stdout.close()
    finally:
        notifier.close_connection()
