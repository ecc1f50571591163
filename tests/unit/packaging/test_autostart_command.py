"""``snaplark autostart enable|disable|status`` through the real CLI entry point, on the XDG adapter in a tmp
XDG_CONFIG_HOME (and on the LaunchAgent/Run-key adapters injected directly)."""

from __future__ import annotations

import argparse
import os
import sys

import pytest

from tray.cli import main
from tray.commands import autostart as command
from tray_platform.linux.autostart import ENTRY_NAME, exec_split


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    cfg = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-system"))
    monkeypatch.setenv(command.ENV_BACKEND, "linux")
    return cfg / "autostart" / ENTRY_NAME


def entry_exec(path) -> list[str]:
    for line in path.read_text().splitlines():
        if line.startswith("Exec="):
            return exec_split(line[len("Exec="):])
    raise AssertionError("no Exec line")


def test_enable_status_disable_via_cli(xdg, capsys, tmp_path):
    binary = tmp_path / "opt dir" / "snaplark"
    assert main(["autostart", "status"]) == 0
    assert capsys.readouterr().out.startswith("disabled")

    assert main(["autostart", "enable", "--command", f"'{binary}' --verbose"]) == 0
    assert xdg.is_file()
    assert entry_exec(xdg) == [str(binary), "--verbose"]
    capsys.readouterr()

    assert main(["autostart", "status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("enabled: ") and "--verbose" in out and str(xdg) in out

    assert main(["autostart", "disable"]) == 0
    assert not xdg.exists()
    capsys.readouterr()
    assert main(["autostart", "status"]) == 0
    assert capsys.readouterr().out.startswith("disabled")


def test_enable_defaults_to_this_launcher(xdg):
    assert main(["autostart", "enable"]) == 0
    assert entry_exec(xdg) == command.launcher_command()


def test_action_is_required(xdg, capsys):
    assert main(["autostart"]) == 2
    assert not xdg.exists()


def test_frozen_binary_registers_itself(monkeypatch, tmp_path):
    exe = tmp_path / "dist" / "snaplark"
    monkeypatch.delenv("APPIMAGE", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert command.launcher_command() == [str(exe)]
    monkeypatch.setenv("APPIMAGE", "/home/a/Apps/Snaplark.AppImage")
    assert command.launcher_command() == ["/home/a/Apps/Snaplark.AppImage"]


def test_source_checkout_without_script_uses_module(monkeypatch):
    monkeypatch.delenv("APPIMAGE", raising=False)
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr("tray.autostart.shutil.which", lambda name: None)
    assert command.launcher_command() == [os.path.abspath(sys.executable), "-m", "tray"]


def test_run_with_injected_windows_adapter(capsys):
    from tests.unit.packaging.test_autostart_windows import FakeRegistry
    from tray_platform.windows.autostart import RUN_KEY, RunKeyAutostart

    reg = FakeRegistry()
    adapter = RunKeyAutostart(registry=reg)
    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["enable", "--command", r'"C:\Program Files\Snaplark\snaplark.exe"'])
    assert command.run(args, autostart=adapter) == 0
    assert reg.values[(RUN_KEY, "Snaplark")] == r'"C:\Program Files\Snaplark\snaplark.exe"'
    assert command.run(parser.parse_args(["status"]), autostart=adapter) == 0
    assert "enabled:" in capsys.readouterr().out
