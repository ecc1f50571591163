"""LaunchAgent adapter: the generated plist and the exact launchctl calls, with a fake runner (the OS edge)."""

from __future__ import annotations

import plistlib
import stat
from pathlib import Path

import pytest

from tray_platform.base import Autostart
from tray_platform.macos.autostart import LABEL, PLIST_NAME, LaunchAgentAutostart, launch_agent

REPO = Path(__file__).resolve().parents[3]


class FakeLaunchctl:
    """Records argv; answers ``print-disabled`` with the configured overrides."""

    def __init__(self, disabled: dict[str, str] | None = None, fail: bool = False):
        self.calls: list[list[str]] = []
        self.disabled = disabled or {}
        self.fail = fail

    def __call__(self, argv: list[str]) -> tuple[int, str]:
        self.calls.append(list(argv))
        if self.fail:
            return 113, "Could not find service"
        if argv[1] == "print-disabled":
            body = "".join(f'\t"{k}" => {v}\n' for k, v in self.disabled.items())
            return 0, f"disabled services = {{\n{body}}}\nlogin item associations = {{\n}}\n"
        if argv[1] == "enable":
            self.disabled.pop(argv[2].rsplit("/", 1)[1], None)
            return 0, ""
        return 0, ""


@pytest.fixture
def home(tmp_path):
    return tmp_path / "Users" / "alice"


def test_enable_writes_launch_agent_and_clears_override(home):
    runner = FakeLaunchctl(disabled={LABEL: "disabled", "com.other": "enabled"})
    autostart = LaunchAgentAutostart(home=home, runner=runner, uid=501)
    assert isinstance(autostart, Autostart)
    assert not autostart.is_enabled()
    command = ["/Applications/Snaplark.app/Contents/MacOS/snaplark", "--config", "/Users/alice/my cfg.toml"]
    autostart.enable(command)

    path = home / "Library" / "LaunchAgents" / PLIST_NAME
    assert autostart.path == path
    with open(path, "rb") as f:
        agent = plistlib.load(f)
    assert agent == {
        "Label": "com.snaplark.tray",
        "ProgramArguments": command,
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
        "StandardOutPath": str(home / "Library/Logs/Snaplark/launchd.out.log"),
        "StandardErrorPath": str(home / "Library/Logs/Snaplark/launchd.err.log"),
    }
    assert "KeepAlive" not in agent, "quitting from the tray must stay quit"
    assert (home / "Library/Logs/Snaplark").is_dir(), "launchd does not create log directories"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_bytes().startswith(b"<?xml"), "XML plist, readable with plutil and by people"
    assert ["launchctl", "enable", "gui/501/com.snaplark.tray"] in runner.calls
    assert not any(c[1] in ("bootstrap", "load", "bootout", "unload") for c in runner.calls), \
        "enabling must not start or stop a copy now"
    assert autostart.is_enabled()
    assert autostart.command() == command


def test_is_enabled_honours_launchd_disabled_override(home):
    runner = FakeLaunchctl()
    autostart = LaunchAgentAutostart(home=home, runner=runner, uid=501)
    autostart.enable(["/usr/local/bin/snaplark"])
    runner.disabled[LABEL] = "disabled"
    assert not autostart.is_enabled()
    runner.disabled[LABEL] = "true"  # macOS 10.x wording
    assert not autostart.is_enabled()
    runner.disabled[LABEL] = "enabled"
    assert autostart.is_enabled()
    assert ["launchctl", "print-disabled", "gui/501"] in runner.calls


def test_disable_removes_plist_without_killing_the_running_app(home):
    runner = FakeLaunchctl()
    autostart = LaunchAgentAutostart(home=home, runner=runner, uid=501)
    autostart.enable(["/usr/local/bin/snaplark"])
    runner.calls.clear()
    autostart.disable()
    assert not autostart.path.exists()
    assert not autostart.is_enabled()
    assert autostart.command() is None
    assert not any(c[1] in ("bootout", "unload", "kill", "stop") for c in runner.calls)
    autostart.disable()  # idempotent


def test_launchctl_failure_does_not_lose_the_plist(home):
    autostart = LaunchAgentAutostart(home=home, runner=FakeLaunchctl(fail=True), uid=501)
    autostart.enable(["/usr/local/bin/snaplark"])
    assert autostart.path.is_file()
    assert autostart.is_enabled(), "the plist is what launchd loads at login"


def test_foreign_or_corrupt_plist_is_not_enabled(home):
    autostart = LaunchAgentAutostart(home=home, runner=FakeLaunchctl(), uid=501)
    autostart.path.parent.mkdir(parents=True)
    autostart.path.write_bytes(b"not a plist")
    assert not autostart.is_enabled()
    autostart.path.write_bytes(plistlib.dumps({"Label": "com.someone.else", "ProgramArguments": ["/x"]}))
    assert not autostart.is_enabled()


def test_empty_command_is_rejected(home):
    with pytest.raises(ValueError):
        LaunchAgentAutostart(home=home, runner=FakeLaunchctl(), uid=501).enable([])


def test_installer_template_matches_adapter(home):
    """installer/macos/com.snaplark.tray.plist (for hand installs) is the same agent the app writes."""
    binary = "/Applications/Snaplark.app/Contents/MacOS/snaplark"
    text = (REPO / "installer/macos/com.snaplark.tray.plist").read_text()
    text = text.replace("@BINARY@", binary).replace("@HOME@", str(home))
    assert plistlib.loads(text.encode()) == launch_agent([binary], log_dir=home / "Library/Logs/Snaplark")
