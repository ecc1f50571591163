"""Single instance without a display: a second launch with the same settings file asks the running one to capture a
region; with another settings file it is refused (exit 1, stderr names the running one's file) and nothing runs."""

from __future__ import annotations

import io
import socket
import threading

import pytest

from tray.ui.single_instance import EXIT_OTHER_INSTANCE, SingleInstance


@pytest.fixture
def running(tmp_path):
    """A first instance using tmp_path/a/config.toml; yields (instance, delivered commands, event)."""
    first = SingleInstance(tmp_path / "i.sock", config_file=tmp_path / "a" / "config.toml")
    assert first.acquire()
    got: list[str] = []
    done = threading.Event()
    first.serve(lambda cmd: (got.append(cmd), done.set()))
    yield first, got, done
    first.close()


def test_second_launch_with_the_same_settings_file_captures_a_region(running, tmp_path, monkeypatch):
    first, got, done = running
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    second = SingleInstance(tmp_path / "i.sock", config_file="a/../a/config.toml")  # relative, same file
    assert not second.acquire()
    out, err = io.StringIO(), io.StringIO()
    assert second.hand_over(out=out, err=err) == 0
    assert out.getvalue() == "Snaplark is already running; asked it to capture a region.\n" and err.getvalue() == ""
    assert done.wait(5) and got == ["capture_region"]


def test_second_launch_with_another_settings_file_is_refused_and_nothing_runs(running, tmp_path, caplog):
    first, got, done = running
    second = SingleInstance(tmp_path / "i.sock", config_file=tmp_path / "b" / "other.toml")
    assert not second.acquire()
    out, err = io.StringIO(), io.StringIO()
    assert second.hand_over(out=out, err=err) == EXIT_OTHER_INSTANCE == 1
    assert out.getvalue() == ""
    msg = err.getvalue()
    assert (f"another Snaplark is already running with the settings file {(tmp_path / 'a' / 'config.toml').resolve()}"
            f"; this launch uses {(tmp_path / 'b' / 'other.toml').resolve()}") in msg
    assert not done.wait(0.5) and got == []
    assert any("was told to quit" in r.getMessage() for r in caplog.records)
    second.close()  # a launch that handed over must not remove the running instance's socket
    assert (tmp_path / "i.sock").exists() and first.send("ping") == "pong"


def test_launch_during_start_up_is_answered_and_held_until_serve(tmp_path):
    first = SingleInstance(tmp_path / "i.sock", config_file=tmp_path / "config.toml")
    assert first.acquire()  # answering from here on, although serve() is not called yet
    try:
        second = SingleInstance(tmp_path / "i.sock", config_file=tmp_path / "config.toml")
        assert second.hand_over(out=io.StringIO(), err=io.StringIO()) == 0
        got: list[str] = []
        first.serve(got.append)
        assert got == ["capture_region"]
    finally:
        first.close()


def test_busy_instance_that_does_not_answer_is_not_taken_over(tmp_path):
    path = tmp_path / "i.sock"
    busy = socket.socket(socket.AF_UNIX)
    busy.bind(str(path))
    busy.listen(1)  # alive, never accepts: like an instance stuck before it answers
    try:
        second = SingleInstance(path, config_file=tmp_path / "config.toml", timeout=0.3)
        assert not second.acquire()
        err = io.StringIO()
        assert second.hand_over(out=io.StringIO(), err=err) == 1
        assert "does not answer" in err.getvalue()
        assert path.exists()
    finally:
        busy.close()


def test_older_instance_that_does_not_know_launch_is_not_sent_a_capture(tmp_path):
    path = tmp_path / "i.sock"
    old = socket.socket(socket.AF_UNIX)
    old.bind(str(path))
    old.listen(1)

    def answer_like_an_old_version():
        conn, _ = old.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"unknown\n")

    t = threading.Thread(target=answer_like_an_old_version, daemon=True)
    t.start()
    try:
        err = io.StringIO()
        assert SingleInstance(path, config_file=tmp_path / "c.toml").hand_over(out=io.StringIO(), err=err) == 1
        assert "did not understand" in err.getvalue()
    finally:
        t.join(5)
        old.close()
