"""CLI: --version, lazy command dispatch, not-available commands, config get/set, error handling."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
import types

import pytest

import tray
from tray import cli


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    path = tmp_path / "cfg" / "config.toml"
    monkeypatch.setenv("SNAPLARK_CONFIG", str(path))
    return path


@pytest.fixture(autouse=True)
def _restore_logging():
    import logging

    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for h in list(root.handlers):
        if h not in before:
            root.removeHandler(h)
            h.close()


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"snaplark {tray.__version__}"


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("shot", "record", "upload", "status", "history", "login", "logout", "config", "autostart"):
        assert f"  {name} " in out


def test_unknown_command_is_usage_error(capsys):
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_missing_command_module_is_not_available(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "teleport", "not a real command")
    assert "tray.commands.teleport" not in sys.modules
    assert cli.main(["teleport", "--anything"]) == 2
    assert capsys.readouterr().err.strip() == "snaplark teleport: not available yet"


def test_only_the_chosen_command_is_imported():
    code = ("import sys; from tray import cli; cli.main(['config', 'path']); "
            "print(sorted(m for m in sys.modules if m.startswith('tray.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "['tray.commands.config']"


def test_dependency_missing_inside_command_is_not_hidden(monkeypatch, capsys):
    module = types.ModuleType("tray.commands.fake")

    def configure(parser):
        pass

    def run(args):
        raise ModuleNotFoundError("No module named 'somelib'", name="somelib")

    module.configure, module.run = configure, run
    monkeypatch.setitem(sys.modules, "tray.commands.fake", module)
    monkeypatch.setitem(cli.COMMANDS, "fake", "fake")
    assert cli.main(["fake"]) == 1
    assert "not available yet" not in capsys.readouterr().err


def test_global_flags_before_or_after_command(monkeypatch, tmp_path):
    seen = {}
    module = types.ModuleType("tray.commands.echo")
    module.configure = lambda parser: parser.add_argument("word")

    def run(args: argparse.Namespace) -> int:
        seen.update(vars(args))
        return 7

    module.run = run
    monkeypatch.setitem(sys.modules, "tray.commands.echo", module)
    monkeypatch.setitem(cli.COMMANDS, "echo", "echo")
    for name in ("a.toml", "b.toml"):  # --config must name an existing file
        (tmp_path / name).write_text("")
    assert cli.main(["echo", "hi", "-v", "--config", str(tmp_path / "a.toml")]) == 7
    assert seen == {"word": "hi", "verbose": True, "config": tmp_path / "a.toml", "command": "echo"}
    seen.clear()
    assert cli.main(["-v", "--config", str(tmp_path / "b.toml"), "echo", "yo"]) == 7
    assert seen == {"word": "yo", "verbose": True, "config": tmp_path / "b.toml", "command": "echo"}


def test_no_command_runs_tray_app(monkeypatch):
    called = {}
    fake_app = types.ModuleType("tray.app")
    fake_app.run_tray = lambda args: called.setdefault("args", args) and 0
    monkeypatch.setitem(sys.modules, "tray.app", fake_app)
    assert cli.main(["-v"]) == 0
    assert called["args"].verbose is True and called["args"].command is None


def test_no_tray_app_yet_is_not_available(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tray.app", types.ModuleType("tray.app"))  # no run_tray
    assert cli.main([]) == 2
    assert "not available yet" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------- config
def test_config_path_show_get_set(cfg, capsys):
    assert cli.main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(cfg)
    assert cli.main(["config", "get", "capture.fps"]) == 0
    assert capsys.readouterr().out.strip() == "30"
    assert cli.main(["config", "set", "capture.fps", "60"]) == 0
    assert cli.main(["config", "set", "notifications.progress", "false"]) == 0
    capsys.readouterr()
    assert tomllib.loads(cfg.read_text())["capture"]["fps"] == 60
    assert cli.main(["config", "get", "capture.fps"]) == 0
    assert capsys.readouterr().out.strip() == "60"
    assert cli.main(["config", "get", "notifications.progress"]) == 0
    assert capsys.readouterr().out.strip() == "false"
    assert cli.main(["config", "show"]) == 0
    shown = capsys.readouterr().out
    body = tomllib.loads(shown)
    assert body["capture"]["fps"] == 60 and body["server"]["embedded_port"] == 8765 and str(cfg) in shown


def test_config_set_bad_value_exit_2_names_key_and_file(cfg, capsys):
    assert cli.main(["config", "set", "capture.fps", "60"]) == 0
    before = cfg.read_bytes()
    capsys.readouterr()
    assert cli.main(["config", "set", "capture.fps", "1000"]) == 2
    err = capsys.readouterr().err
    assert "capture.fps" in err and "1000" in err and str(cfg) in err and "Traceback" not in err
    assert cfg.read_bytes() == before


def test_config_get_unknown_key(cfg, capsys):
    assert cli.main(["config", "get", "capture.colour"]) == 2
    assert "no such setting 'capture.colour'" in capsys.readouterr().err


def test_config_flag_overrides_env(cfg, tmp_path, capsys):
    other = tmp_path / "other.toml"
    assert cli.main(["--config", str(other), "config", "set", "capture.countdown", "0"]) == 0
    assert tomllib.loads(other.read_text())["capture"]["countdown"] == 0
    assert not cfg.exists()


def test_broken_config_is_one_message_exit_2(cfg, capsys):
    cfg.parent.mkdir(parents=True)
    cfg.write_text("[capture]\nbitrate = -1\n")
    assert cli.main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert "capture.bitrate = -1" in err and str(cfg) in err and "Traceback" not in err


def test_console_script_entry_point(cfg):
    out = subprocess.run([sys.executable, "-m", "tray", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"snaplark {tray.__version__}"
    out = subprocess.run([sys.executable, "-m", "tray", "config", "set", "capture.fps", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "capture.fps" in out.stderr and "Traceback" not in out.stderr
