"""Start at login on macOS: a per-user LaunchAgent, ``~/Library/LaunchAgents/com.snaplark.tray.plist``.

launchd loads every plist in ``~/Library/LaunchAgents`` when the user logs in; ``RunAtLoad`` starts the program
then. ``LimitLoadToSessionType=Aqua`` keeps it out of SSH sessions; ``ProcessType=Interactive`` gives it UI
scheduling priority. There is no ``KeepAlive``: quitting from the tray menu must stay quit.

``launchctl`` is reached only through the injected ``runner`` (``runner(argv) -> (returncode, stdout)``), so the
plist and the exact launchctl calls are checked by tests on any OS:

- ``enable`` writes the plist, then ``launchctl enable gui/<uid>/com.snaplark.tray`` clears a "disabled" override
  that ``launchctl disable`` (or an older uninstall) may have left in launchd's database; it does not bootstrap the
  job now, which would start a second copy of a tray app that is already running.
- ``disable`` removes the plist (launchd will not load it at the next login). It does not ``bootout``, which would
  kill the running app when it was started by launchd.
- ``is_enabled`` = the plist exists with our label and ``launchctl print-disabled gui/<uid>`` does not mark the
  label disabled.

Not thread-safe: one instance per thread.
"""

from __future__ import annotations

import logging
import os
import plistlib
import re
import subprocess
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

LABEL = "com.snaplark.tray"
PLIST_NAME = f"{LABEL}.plist"

Runner = Callable[[list[str]], "tuple[int, str]"]


def run_launchctl(argv: list[str]) -> tuple[int, str]:
    """The real runner: run ``argv`` with a timeout; (returncode, stdout+stderr)."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return proc.returncode, (proc.stdout or "") + (proc.stderr or "")


def launch_agent(command: list[str], *, log_dir: Path | None = None) -> dict[str, Any]:
    """The LaunchAgent dictionary that starts ``command`` at login."""
    if not command or not command[0]:
        raise ValueError("the autostart command is empty")
    agent: dict[str, Any] = {
        "Label": LABEL,
        "ProgramArguments": [str(a) for a in command],
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    if log_dir is not None:
        agent["StandardOutPath"] = str(log_dir / "launchd.out.log")
        agent["StandardErrorPath"] = str(log_dir / "launchd.err.log")
    return agent


class LaunchAgentAutostart:
    """``Autostart`` through a LaunchAgent plist."""

    name = "macos-launchagent"

    def __init__(self, *, home: Path | None = None, runner: Runner | None = None, uid: int | None = None,
                 log_dir: Path | None = None):
        self._home = Path(home) if home is not None else None
        self._runner = runner or run_launchctl
        self._uid = uid
        self._log_dir = log_dir

    @property
    def path(self) -> Path:
        home = self._home if self._home is not None else Path.home()
        return home / "Library" / "LaunchAgents" / PLIST_NAME

    def _domain_target(self) -> str:
        uid = self._uid if self._uid is not None else os.getuid()
        return f"gui/{uid}"

    def _log_directory(self) -> Path:
        if self._log_dir is not None:
            return self._log_dir
        home = self._home if self._home is not None else Path.home()
        return home / "Library" / "Logs" / "Snaplark"

    # --- Autostart protocol ----------------------------------------------------------------------------------
    def enable(self, command: list[str]) -> None:
        log_dir = self._log_directory()
        data = plistlib.dumps(launch_agent(list(command), log_dir=log_dir), fmt=plistlib.FMT_XML)
        log_dir.mkdir(parents=True, exist_ok=True)  # launchd does not create the directory of its log paths
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{PLIST_NAME}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # launchd ignores agents writable by others
        os.replace(tmp, self.path)
        code, out = self._runner(["launchctl", "enable", f"{self._domain_target()}/{LABEL}"])
        if code != 0:
            log.warning("launchctl enable %s failed (%s): %s", LABEL, code, out.strip())

    def disable(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def is_enabled(self) -> bool:
        agent = self._read()
        if agent is None or agent.get("Label") != LABEL or agent.get("Disabled") is True:
            return False
        code, out = self._runner(["launchctl", "print-disabled", self._domain_target()])
        if code != 0:
            return True  # launchd could not tell us about overrides; the plist is what loads at login
        return not _marked_disabled(out, LABEL)

    def command(self) -> list[str] | None:
        agent = self._read()
        if agent is None or not self.is_enabled():
            return None
        return list(agent.get("ProgramArguments") or [])

    def location(self) -> str:
        return str(self.path)

    def _read(self) -> dict[str, Any] | None:
        try:
            with open(self.path, "rb") as f:
                data = plistlib.load(f)
        except (OSError, plistlib.InvalidFileException, ValueError):
            return None
        return data if isinstance(data, dict) else None


def _marked_disabled(print_disabled_output: str, label: str) -> bool:
    """``launchctl print-disabled`` lists ``"label" => disabled`` (macOS 11+) or ``"label" => true`` (older)."""
    pattern = re.compile(r'"' + re.escape(label) + r'"\s*=>\s*(\w+)')
    match = pattern.search(print_disabled_output)
    return bool(match) and match.group(1) in ("disabled", "true")


def create(**kwargs: Any) -> LaunchAgentAutostart:
    return LaunchAgentAutostart(**kwargs)
