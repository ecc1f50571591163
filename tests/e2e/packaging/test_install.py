"""installer/linux/install.sh into a throwaway HOME: menu entry, icons, XDG autostart entry; the autostart entry
started the way a session starts it (GLib's GDesktopAppInfo) runs the installed launcher; uninstall.sh removes
everything. The launcher here is a stand-in script that records how it was started (the real binary is exercised
the same way in test_binary.py)."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.packaging.conftest import (
    REPO,
    files_under,
    launch_autostart_entry,
    run_install,
    run_uninstall,
    wait_pid,
    wait_until,
)

pytestmark = pytest.mark.e2e

STAND_IN = """#!/bin/sh
# stand-in for the snaplark binary: records argv, cwd and HOME, answers --version
if [ "$1" = "--version" ]; then echo "snaplark 9.9.9"; exit 0; fi
marker="${SNAPLARK_TEST_MARKER:?}"
{ printf 'argc=%s\\n' "$#"; for a in "$@"; do printf 'arg=%s\\n' "$a"; done
  printf 'exe=%s\\nhome=%s\\n' "$0" "$HOME"; } > "$marker.tmp"
mv "$marker.tmp" "$marker"
"""


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text())
    return dict(parser["Desktop Entry"])


def make_stand_in(root: Path, layout: str) -> Path:
    """A stand-in build: ``onefile`` = one executable file; ``onedir`` = a folder with the executable and an
    ``_internal/`` folder, as PyInstaller's one-dir build."""
    if layout == "onefile":
        path = root / "snaplark"
    else:
        path = root / "snaplark-onedir" / "snaplark"
        (path.parent / "_internal" / "lib").mkdir(parents=True)
        (path.parent / "_internal" / "lib" / "libdummy.so").write_bytes(b"\x7fELF")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STAND_IN)
    path.chmod(0o755)
    return path if layout == "onefile" else path.parent


@pytest.fixture
def stand_in(tmp_path) -> Path:
    return make_stand_in(tmp_path / "build out", "onefile")


@pytest.mark.parametrize("layout", ["onefile", "onedir"])
def test_install_autostart_launch_and_uninstall(throwaway_home, tmp_path, layout):
    home = throwaway_home
    stand_in = make_stand_in(tmp_path / "build out", layout)
    (home / ".config").mkdir()
    (home / ".config" / "unrelated.conf").write_text("keep me\n")  # uninstall must not touch other files
    before = files_under(home)

    out = run_install(home, "--binary", str(stand_in))
    assert "snaplark 9.9.9" in out

    launcher = home / ".local/bin/snaplark"
    autostart = home / ".config/autostart/snaplark.desktop"
    menu = home / ".local/share/applications/snaplark.desktop"
    program = stand_in if layout == "onefile" else stand_in / "snaplark"
    assert launcher.read_bytes() == program.read_bytes() and os.access(launcher, os.X_OK)
    if layout == "onedir":
        app = home / ".local/share/snaplark-installer/app"
        assert launcher.is_symlink() and launcher.resolve() == app / "snaplark"
        assert (app / "_internal/lib/libdummy.so").read_bytes() == b"\x7fELF"
    assert (home / ".local/share/icons/hicolor/48x48/apps/snaplark.png").read_bytes() == \
        (REPO / "icons/idle-48.png").read_bytes()
    assert (home / ".local/share/icons/hicolor/scalable/apps/snaplark.svg").is_file()

    entry = read_entry(autostart)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == f'"{launcher}"', "the path has a space: quoted per the Desktop Entry spec"
    assert entry["TryExec"] == str(launcher)
    assert entry.get("Hidden", "false") == "false" and entry["X-GNOME-Autostart-enabled"] == "true"
    assert read_entry(menu)["Exec"] == entry["Exec"]
    assert "Utility" in read_entry(menu)["Categories"].split(";")

    # The app's own adapter sees the installer's entry as "enabled, running the installed launcher".
    env = dict(os.environ, HOME=str(home), SNAPLARK_AUTOSTART="linux")
    status = subprocess.run([sys.executable, "-m", "tray", "autostart", "status"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("enabled: ") and str(launcher) in status.stdout

    # Log in: the session runs the autostart entry.
    marker = tmp_path / "started.txt"
    session_env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SNAPLARK_TEST_MARKER": str(marker)}
    pid = launch_autostart_entry(autostart, session_env)
    assert wait_pid(pid, 20) == 0
    wait_until(marker.exists, 10, what="the launcher's marker")
    lines = marker.read_text().splitlines()
    assert lines == ["argc=0", f"exe={launcher}", f"home={home}"]

    # Uninstall: every installed file goes, including the uninstaller; other files stay.
    run_uninstall(home)
    assert files_under(home) == before
    assert not (home / ".local").exists(), "directories the installer created are removed once empty"
    assert (home / ".config" / "unrelated.conf").read_text() == "keep me\n"


def test_no_autostart_option_and_later_enable_via_app(throwaway_home, stand_in):
    home = throwaway_home
    run_install(home, "--binary", str(stand_in), "--no-autostart")
    autostart = home / ".config/autostart/snaplark.desktop"
    assert not autostart.exists()
    assert (home / ".local/share/applications/snaplark.desktop").is_file()

    # `snaplark autostart enable` (the app's adapter) writes an entry the uninstaller also removes.
    env = dict(os.environ, HOME=str(home), SNAPLARK_AUTOSTART="linux")
    launcher = home / ".local/bin/snaplark"
    proc = subprocess.run([sys.executable, "-m", "tray", "autostart", "enable", "--command", f"'{launcher}'"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert read_entry(autostart)["Exec"] == f'"{launcher}"'
    run_uninstall(home)
    assert not autostart.exists()
    assert not (home / ".local").exists()


def test_switching_between_onedir_and_onefile_leaves_no_stale_files(throwaway_home, tmp_path):
    home = throwaway_home
    onedir = make_stand_in(tmp_path / "a", "onedir")
    onefile = make_stand_in(tmp_path / "b", "onefile")
    run_install(home, "--binary", str(onedir))
    run_install(home, "--binary", str(onefile))
    launcher = home / ".local/bin/snaplark"
    assert not launcher.is_symlink() and launcher.is_file()
    assert not (home / ".local/share/snaplark-installer/app").exists()
    run_install(home, "--binary", str(onedir))
    assert launcher.is_symlink()
    run_uninstall(home)
    assert files_under(home) == set()


def test_reinstall_is_idempotent_and_purge_removes_user_data(throwaway_home, stand_in, monkeypatch):
    home = throwaway_home
    run_install(home, "--binary", str(stand_in))
    first = files_under(home)
    run_install(home, "--binary", str(stand_in))
    assert files_under(home) == first
    manifest = (home / ".local/share/snaplark-installer/manifest").read_text().splitlines()
    assert len(manifest) == len(set(manifest)) == len(first)

    # what the app creates at run time (platformdirs locations under this HOME)
    for d in (".config/snaplark", ".local/share/snaplark", ".local/state/snaplark/log", ".cache/snaplark"):
        (home / d).mkdir(parents=True)
        (home / d / "file").write_text("x")
    run_uninstall(home)
    assert (home / ".config/snaplark/file").exists(), "without --purge, settings and data stay"
    run_install(home, "--binary", str(stand_in))
    run_uninstall(home, "--purge")
    assert files_under(home) == set()


def test_xdg_overrides_are_honoured(throwaway_home, stand_in, tmp_path):
    home = throwaway_home
    cfg, data = tmp_path / "xdg cfg", tmp_path / "xdg-data"
    run_install(home, "--binary", str(stand_in),
                env_extra={"XDG_CONFIG_HOME": str(cfg), "XDG_DATA_HOME": str(data)})
    assert (cfg / "autostart/snaplark.desktop").is_file()
    assert (data / "applications/snaplark.desktop").is_file()
    assert (data / "snaplark-installer/manifest").is_file()
    assert not (home / ".config").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(cfg), XDG_DATA_HOME=str(data))
    proc = subprocess.run(["bash", str(data / "snaplark-installer/uninstall.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert files_under(cfg) == set() and files_under(data) == set()
    assert files_under(home) == set()


def test_missing_binary_is_a_clear_error(throwaway_home, tmp_path):
    env = dict(os.environ, HOME=str(throwaway_home))
    proc = subprocess.run(["bash", str(REPO / "installer/linux/install.sh"), "--binary", str(tmp_path / "nope")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "does not exist" in proc.stderr
    assert files_under(throwaway_home) == set()


def test_start_option_launches_the_installed_program_detached(throwaway_home, stand_in, tmp_path):
    marker = tmp_path / "started-by-install.txt"
    out = run_install(throwaway_home, "--binary", str(stand_in), "--no-autostart", "--start",
                      env_extra={"SNAPLARK_TEST_MARKER": str(marker)})
    assert "started" in out
    wait_until(marker.exists, 20, what="the program started by install.sh --start")
    assert f"exe={throwaway_home / '.local/bin/snaplark'}" in marker.read_text().splitlines()


def test_exec_quoting_of_an_awkward_bindir(throwaway_home, stand_in, tmp_path):
    """install.sh's shell implementation of the Exec quoting rules, checked by GLib on a path with the reserved
    character classes: space, quotes, dollar, backquote, backslash, semicolon, hash. (Not "%": GLib checks that the
    program exists *before* turning "%%" back into "%", so no GLib-based session can start a program whose path
    has a "%" in it, however it is quoted; the escaping itself is covered by the unit tests.)"""
    bindir = tmp_path / 'odd $dir `x` "q" it\'s back\\slash a;b #c'
    run_install(throwaway_home, "--binary", str(stand_in), "--bindir", str(bindir))
    launcher = bindir / "snaplark"
    assert launcher.is_file()
    autostart = throwaway_home / ".config/autostart/snaplark.desktop"
    marker = tmp_path / "odd-started.txt"
    pid = launch_autostart_entry(autostart, {"HOME": str(throwaway_home), "PATH": "/usr/bin:/bin",
                                             "SNAPLARK_TEST_MARKER": str(marker)})
    assert wait_pid(pid, 20) == 0
    assert marker.read_text().splitlines() == ["argc=0", f"exe={launcher}", f"home={throwaway_home}"]
    # the app's own parser agrees with GLib
    from tray_platform.linux.autostart import exec_split

    assert exec_split(read_entry(autostart)["Exec"]) == [str(launcher)]
    run_uninstall(throwaway_home)
    assert not launcher.exists()
