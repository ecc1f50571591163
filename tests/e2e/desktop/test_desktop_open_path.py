"""Opening the captures folder / the settings file from the tray menu of the real tray app object (issue 12
#17): the desktop's opener (a stand-in ``xdg-open`` script first on PATH: the OS edge) runs without leaving a zombie
child; when the opener finds no program, or there is no opener at all, the user is told in a notification (received
by the recording notification service on a real private session bus) that names the path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_helpers import menu_app  # noqa: F401 - the `app` fixture
from desktop_helpers import run_posted, wait_until

pytestmark = pytest.mark.e2e


def stand_in_opener(bin_dir: Path, exit_status: int) -> Path:
    """An ``xdg-open`` that records its pid and what it was asked to open, then exits like the real one (3: no
    program found) after a moment (the real one is a long shell script that starts a file manager)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    log = bin_dir / "opened.txt"
    script = bin_dir / "xdg-open"
    script.write_text(f'#!/bin/sh\nprintf "%s %s\\n" "$$" "$1" >> "{log}"\nsleep 0.2\nexit {exit_status}\n')
    script.chmod(0o755)
    return log


def process_state(pid: int) -> str | None:
    """``State:`` of /proc/<pid>/status ("Z (zombie)" = exited, never waited for); None once it is reaped."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("State:"))


@pytest.mark.parametrize("command", ["open_captures_folder", "open_settings_file"])
def test_opener_child_is_reaped(app, tmp_path, monkeypatch, command):
    opened = stand_in_opener(tmp_path / "bin", 0)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    getattr(app, command)()
    target = tmp_path / "captures" if command == "open_captures_folder" else tmp_path / "cfg" / "config.toml"
    line = wait_until(lambda: opened.exists() and opened.read_text(), 5, what="xdg-open run")
    pid, arg = line.split(maxsplit=1)
    assert arg == f"{target}\n" and target.exists()
    wait_until(lambda: (process_state(int(pid)) or "Z").startswith("Z"), 5, what="xdg-open exited")
    try:
        wait_until(lambda: process_state(int(pid)) is None, 5, what="the xdg-open child reaped")
    except TimeoutError:
        pytest.fail(f"xdg-open (pid {pid}) left behind: State {process_state(int(pid))}")


def test_opener_that_finds_no_program_is_told_with_the_path(app, notification_service, tmp_path, monkeypatch):
    """xdg-open exists but nothing handles folders (a bare window manager): it exits 3 and prints to a stderr
    nobody sees."""
    stand_in_opener(tmp_path / "bin", 3)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    app.open_captures_folder()
    run_posted(app)  # the reaper thread posts the message to the UI thread
    call = notification_service.wait_for(lambda calls: calls and calls[-1])
    assert str(tmp_path / "captures") in call.body, call.body
    assert call.summary == "Nothing opened" and "xdg-open" in call.body
    assert call.hint("urgency") == 1 and call.expire_timeout > 0


def test_no_opener_at_all_is_told_with_the_path(app, notification_service, tmp_path, monkeypatch):
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    app.open_settings_file()
    call = notification_service.wait_for(lambda calls: calls and calls[-1])
    assert str(tmp_path / "cfg" / "config.toml") in call.body, call.body
    assert call.summary == "No program to open it" and "xdg-open was not found" in call.body, call.body
    assert call.hint("urgency") == 1 and call.expire_timeout > 0
