"""The History window's "Show in folder" shows the file selected: ``org.freedesktop.FileManager1.ShowItems`` with its
``file://`` URI on a real private session bus, received by a recording file manager of the test's own
(file_manager_service.py); with no file manager on the bus, or one that refuses, the folder is opened instead by the
desktop's opener (a stand-in ``xdg-open`` first on PATH: the OS edge)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.e2e.ui.conftest import pump
from tests.e2e.ui.file_manager_service import BUS_NAME, RecordingFileManager
from tests.e2e.ui.test_history_window import CYAN, by_name, captures, png, window_of  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

ODD_NAME = "screenshot-2000 été #1.png"  # a space, non-ASCII and '#': percent-encoded in the URI


@pytest.fixture
def opener_log(tmp_path, monkeypatch) -> Path:
    """A stand-in ``xdg-open`` first on PATH that writes what it was asked to open."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = bin_dir / "opened.txt"
    (bin_dir / "xdg-open").write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
    (bin_dir / "xdg-open").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def name_owned(bus_name: str) -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection("SESSION") as conn:
        return bool(conn.send_and_get_reply(message_bus.NameHasOwner(bus_name), timeout=5).body[0])


def show_in_folder(window, tk_root, name: str) -> None:
    """Press "Show in folder" on ``name``'s row and wait (bounded) until the asking thread ended and what it posted
    ran on the Tk thread."""
    window.select(by_name(window)[name])
    assert "disabled" not in window.buttons["show_folder"].state()
    window.buttons["show_folder"].invoke()
    asking = lambda: any(t.name == "show-in-folder" for t in threading.enumerate())  # noqa: E731
    assert pump(tk_root, lambda: not asking(), timeout=10), "the file manager was never answered"
    pump(tk_root, timeout=0.2)  # the fallback, when there is one, is posted to the Tk thread


def wait_opened(tk_root, log: Path, count: int) -> list[str]:
    assert pump(tk_root, lambda: log.exists() and log.read_text().count("\n") >= count, timeout=10), \
        "nothing was opened"
    return log.read_text().splitlines()


def test_show_in_folder_asks_the_file_manager_to_select_the_file(window_of, captures, tk_root, dbus_session,
                                                                  opener_log):
    journal, folder, files = captures
    odd = png(folder, ODD_NAME, CYAN)
    manager = RecordingFileManager().start()
    try:
        window = window_of(journal, folder)
        show_in_folder(window, tk_root, ODD_NAME)
        member, uris, startup_id = manager.wait_for_call()
        assert member == "ShowItems" and startup_id == ""
        assert uris == [odd.as_uri()] and uris[0].startswith("file:///")
        assert "screenshot-2000%20%C3%A9t%C3%A9%20%231.png" in uris[0]
        show_in_folder(window, tk_root, "screenshot-1002.png")  # one from the journal too
        assert manager.calls[1] == ("ShowItems", [files["screenshot-1002.png"].as_uri()], "")
    finally:
        manager.stop()
    assert not opener_log.exists(), "the folder was opened as well"


def test_the_folder_is_opened_when_no_file_manager_answers_and_not_when_one_does(window_of, captures, tk_root,
                                                                                   dbus_session, opener_log):
    """None on the bus -> the folder; one appears -> the file selected, no folder; one that refuses -> the folder."""
    journal, folder, files = captures
    assert not name_owned(BUS_NAME)
    window = window_of(journal, folder)
    show_in_folder(window, tk_root, "screenshot-1002.png")
    assert wait_opened(tk_root, opener_log, 1) == [str(folder)]

    manager = RecordingFileManager().start()
    try:
        show_in_folder(window, tk_root, "screenshot-1002.png")
        assert manager.wait_for_call() == ("ShowItems", [files["screenshot-1002.png"].as_uri()], "")
    finally:
        manager.stop()
    assert opener_log.read_text().splitlines() == [str(folder)]

    refusing = RecordingFileManager(refuse=True).start()
    try:
        show_in_folder(window, tk_root, "screenshot-1001.png")
        assert wait_opened(tk_root, opener_log, 2) == [str(folder), str(folder)]
    finally:
        refusing.stop()
