"""Fixtures for the packaging e2e tests: the PyInstaller binary (built once per session into a tmp dir with
build/build_binary.sh), a throwaway HOME, the trayer tray host, and a launcher for XDG autostart entries that uses
GLib's GDesktopAppInfo (what gnome-session uses to start autostart entries; ``gio launch`` does the same)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.procutil import REQUIRE_ALL, need_tool, start_tray_host, stop_process, wait_until

REPO = Path(__file__).resolve().parents[3]
BUILD_SCRIPT = REPO / "build" / "build_binary.sh"
INSTALL = REPO / "installer" / "linux" / "install.sh"
ARTIFACTS = REPO / "test-artifacts" / "packaging"
BUILD_TIMEOUT = 1500  # 2 shared cores under a parallel test load: a cold build takes 1-4 min


@dataclass
class BuiltBinary:
    path: Path
    build_output: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@pytest.fixture(scope="session")
def snaplark_binary(tmp_path_factory) -> BuiltBinary:
    """dist/snaplark built from this checkout by build/build_binary.sh, into a session tmp dir.
    ``SNAPLARK_TEST_DIST=DIR`` uses an existing build output dir instead (for iterating on these tests)."""
    prebuilt = os.environ.get("SNAPLARK_TEST_DIST")
    if prebuilt:
        return BuiltBinary(path=Path(prebuilt) / "snaplark", build_output="(prebuilt)")
    if importlib.util.find_spec("PyInstaller") is None:
        msg = "PyInstaller is not installed (pip install -e '.[dev]' or '.[build]')"
        if REQUIRE_ALL:
            pytest.fail(msg)
        pytest.skip(msg)
    dist = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, PYTHON=sys.executable, TMPDIR=str(tmp_path_factory.getbasetemp()))
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):  # the build must not depend on a display
        env.pop(name, None)
    try:
        proc = subprocess.run(["bash", str(BUILD_SCRIPT), "--dist", str(dist)], env=env, capture_output=True,
                              text=True, timeout=BUILD_TIMEOUT, cwd=str(tmp_path_factory.getbasetemp()))
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"build_binary.sh did not finish within {BUILD_TIMEOUT}s: {(exc.stderr or '')[-3000:]}")
    if proc.returncode != 0:
        pytest.fail(f"build_binary.sh failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    binary = dist / "snaplark"
    assert binary.is_file(), proc.stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = [line for line in proc.stdout.splitlines() if re.match(r"(size|start \d|build took)", line)]
    (ARTIFACTS / "binary-build.txt").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    return BuiltBinary(path=binary, build_output=proc.stdout)


@pytest.fixture
def throwaway_home(tmp_path, monkeypatch):
    """A fresh HOME (with a space in its path, to exercise Exec quoting) and no XDG overrides."""
    home = tmp_path / "home dir"
    home.mkdir()
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_DIRS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-system-config"))
    return home


def run_install(home: Path, *args: str, env_extra: dict | None = None, timeout: float = 60,
                script: Path = INSTALL) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update({"HOME": str(home), "XDG_CONFIG_DIRS": os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg")})
    env.update(env_extra or {})
    proc = subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def run_uninstall(home: Path, *args: str, env_extra: dict | None = None, timeout: float = 60) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    env.update(env_extra or {})
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local/share")
    script = data_home / "snaplark-installer/uninstall.sh"
    proc = subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def launch_autostart_entry(entry: Path, env: dict[str, str], *, stderr_path: Path | None = None) -> int:
    """Start an XDG autostart entry as the session does: GLib's GDesktopAppInfo honours TryExec/Hidden, unescapes
    and splits Exec, drops field codes and spawns the program with exactly ``env``. Returns the child's pid (ours
    to reap). stdout goes to /dev/null, stderr to ``stderr_path`` (or /dev/null)."""
    gi = pytest.importorskip("gi")
    gi.require_version("Gio", "2.0")
    gi.require_version("GLib", "2.0")
    from gi.repository import Gio, GLib

    info = Gio.DesktopAppInfo.new_from_filename(str(entry))
    assert info is not None, f"GLib refused the entry (TryExec missing or Hidden=true?): {entry.read_text()}"
    context = Gio.AppLaunchContext()
    for name in list(os.environ):
        if name not in env:
            context.unsetenv(name)
    for name, value in env.items():
        context.setenv(name, value)
    pids: list[int] = []
    flags = GLib.SpawnFlags.SEARCH_PATH | GLib.SpawnFlags.DO_NOT_REAP_CHILD
    devnull = os.open(os.devnull, os.O_RDWR)
    err = os.open(str(stderr_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) if stderr_path else devnull
    try:
        ok = info.launch_uris_as_manager_with_fds([], context, flags, None, None,
                                                  lambda _info, pid, _data: pids.append(pid), None,
                                                  devnull, devnull, err)
    finally:
        os.close(devnull)
        if err != devnull:
            os.close(err)
    assert ok and len(pids) == 1
    return pids[0]


def wait_pid(pid: int, timeout: float) -> int | None:
    """Exit status of our child ``pid`` within ``timeout`` s, or None if it is still running."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def kill_pid(pid: int) -> None:
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return
    if wait_pid(pid, 5) is None:
        os.kill(pid, 9)
        wait_pid(pid, 5)


@pytest.fixture(scope="module")
def trayer_host(xvfb, dbus_session):
    """``trayer`` as the XEmbed system tray host on the shared Xvfb display."""
    need_tool("trayer", "xdotool", "xwininfo")
    proc = start_tray_host()
    yield proc
    stop_process(proc)

