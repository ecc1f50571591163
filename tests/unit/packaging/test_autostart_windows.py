"""Run-key adapter: the registry writes and command-line quoting, with an in-memory registry (the OS edge), plus
the Inno Setup script and PowerShell helper naming the same key and value."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tray_platform.base import Autostart
from tray_platform.windows.autostart import (
    APPROVED_KEY,
    RUN_KEY,
    VALUE_NAME,
    RunKeyAutostart,
    command_line,
    split_command_line,
)

REPO = Path(__file__).resolve().parents[3]


class FakeRegistry:
    def __init__(self):
        self.values: dict[tuple[str, str], object] = {}
        self.log: list[tuple] = []

    def read(self, key, name):
        return self.values.get((key, name))

    def write_string(self, key, name, value):
        assert isinstance(value, str)
        self.log.append(("set", key, name, value))
        self.values[(key, name)] = value

    def delete(self, key, name):
        self.log.append(("delete", key, name))
        self.values.pop((key, name), None)


def test_enable_writes_quoted_run_value():
    reg = FakeRegistry()
    autostart = RunKeyAutostart(registry=reg)
    assert isinstance(autostart, Autostart)
    assert not autostart.is_enabled()
    exe = r"C:\Users\Alice Smith\AppData\Local\Programs\Snaplark\snaplark.exe"
    autostart.enable([exe])
    assert RUN_KEY == r"Software\Microsoft\Windows\CurrentVersion\Run"
    assert reg.log[0] == ("set", RUN_KEY, "Snaplark", f'"{exe}"')
    assert autostart.is_enabled()
    assert autostart.command() == [exe]
    assert autostart.location() == r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run\Snaplark"


def test_enable_clears_task_manager_disabled_mark():
    reg = FakeRegistry()
    autostart = RunKeyAutostart(registry=reg)
    autostart.enable([r"C:\snaplark.exe"])
    reg.values[(APPROVED_KEY, VALUE_NAME)] = bytes([3]) + bytes(11)  # Task Manager: disabled
    assert not autostart.is_enabled()
    assert autostart.command() is None
    reg.values[(APPROVED_KEY, VALUE_NAME)] = bytes([2]) + bytes(11)  # Task Manager: enabled
    assert autostart.is_enabled()
    reg.values[(APPROVED_KEY, VALUE_NAME)] = bytes([3]) + bytes(11)
    autostart.enable([r"C:\snaplark.exe"])
    assert (APPROVED_KEY, VALUE_NAME) not in reg.values
    assert autostart.is_enabled()


def test_disable_deletes_both_values():
    reg = FakeRegistry()
    autostart = RunKeyAutostart(registry=reg)
    autostart.enable([r"C:\snaplark.exe", "--verbose"])
    assert reg.values[(RUN_KEY, VALUE_NAME)] == r"C:\snaplark.exe --verbose"
    autostart.disable()
    assert reg.values == {}
    assert not autostart.is_enabled()
    autostart.disable()


def test_other_run_values_are_untouched():
    reg = FakeRegistry()
    reg.values[(RUN_KEY, "OneDrive")] = r'"C:\OneDrive.exe" /background'
    autostart = RunKeyAutostart(registry=reg)
    autostart.enable([r"C:\snaplark.exe"])
    autostart.disable()
    assert reg.values == {(RUN_KEY, "OneDrive"): r'"C:\OneDrive.exe" /background'}


@pytest.mark.parametrize("argv, expected", [
    ([r"C:\Program Files\Snaplark\snaplark.exe"], r'"C:\Program Files\Snaplark\snaplark.exe"'),
    ([r"C:\s.exe", "--config", r"C:\my dir\"q.toml"], r'C:\s.exe --config "C:\my dir\\\"q.toml"'),
    ([r"C:\s.exe", r"C:\trailing slash\ "], r'C:\s.exe "C:\trailing slash\ "'),
])
def test_command_line_quoting(argv, expected):
    assert command_line(argv) == expected
    assert split_command_line(expected) == argv


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=10),
                min_size=1, max_size=4).filter(lambda a: a[0] != ""))
def test_command_line_round_trip(argv):
    assert split_command_line(command_line(argv)) == argv


def test_empty_command_is_rejected():
    with pytest.raises(ValueError):
        RunKeyAutostart(registry=FakeRegistry()).enable([])


def test_command_line_is_what_subprocess_uses():
    assert command_line(["a b", "c"]) == subprocess.list2cmdline(["a b", "c"])


def test_inno_setup_script_writes_the_same_value():
    iss = (REPO / "installer/windows/snaplark.iss").read_text()
    run_lines = [line for line in iss.splitlines() if line.startswith("Root: HKCU") and "Tasks: startatlogin" in line]
    assert len(run_lines) == 1
    line = run_lines[0]
    assert f'Subkey: "{RUN_KEY}"' in line
    assert f'ValueName: "{VALUE_NAME}"' in line
    assert "ValueType: string" in line and "uninsdeletevalue" in line
    assert '"""{app}\\snaplark.exe"""' in line, "the path is quoted (spaces in the install dir)"
    assert re.search(r'Subkey: "' + re.escape(APPROVED_KEY) + r'".*ValueName: "Snaplark".*deletevalue', iss)
    assert "PrivilegesRequired=lowest" in iss, "per-user install: HKCU, no admin"
    assert "AppVersion={#AppVersion}" in iss


def test_powershell_helper_names_the_same_value():
    ps1 = (REPO / "installer/windows/autostart.ps1").read_text()
    assert f'"HKCU:\\{RUN_KEY}"' in ps1
    assert f'"HKCU:\\{APPROVED_KEY}"' in ps1
    assert f'$ValueName = "{VALUE_NAME}"' in ps1
