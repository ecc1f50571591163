"""``snaplark send COMMAND`` reaches the running app over the real single-instance socket (the way a key bound in a
Wayland compositor drives Snaplark), and says so plainly when no app runs."""

from __future__ import annotations

import threading

import pytest

from tray import cli
from tray.ui.single_instance import SingleInstance, default_path


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SNAPLARK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SNAPLARK_CONFIG", str(tmp_path / "settings.toml"))
    return tmp_path / "data"


def test_send_runs_the_command_in_the_running_app(data_dir):
    app = SingleInstance(default_path())
    assert app.acquire()
    got, arrived = [], threading.Event()
    app.serve(lambda command: (got.append(command), arrived.set()))
    try:
        assert default_path().parent == data_dir
        assert cli.main(["send", "record-region"]) == 0
        assert arrived.wait(5) and got == ["record_region"]
        assert cli.main(["send", "toggle-pause"]) == 0
    finally:
        app.close()


def test_send_without_a_running_app_says_so(data_dir, capsys):
    assert cli.main(["send", "capture-region"]) == 1
    assert "Snaplark is not running" in capsys.readouterr().err


def test_send_refuses_an_unknown_command(data_dir, capsys):
    assert cli.main(["send", "format-disk"]) == 2
    assert "invalid choice: 'format-disk'" in capsys.readouterr().err
