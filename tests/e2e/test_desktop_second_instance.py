"""A second `snaplark` while the tray app runs, for real: the app under Xvfb (the `desktop` fixture of
test_desktop_app: trayer, private D-Bus + gnome-keyring, embedded server), then `python -m tray` again.

* with another --config: refused on stderr naming the running instance's settings file, exit 1; the running app logs
  it and opens no selector;
* with the same settings file: what launching again has always done -- the running app opens the region selector.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.e2e.test_desktop_app import desktop, sh  # noqa: F401 - fixture reused
from tests.procutil import wait_until

pytestmark = pytest.mark.e2e


def selector_windows() -> list[str]:
    """Visible full-screen (1280x720, override-redirect) windows titled "snaplark" (a Tk toplevel of the app): the
    region selector."""
    found = []
    for wid in sh("xdotool", "search", "--onlyvisible", "--name", "^snaplark$").split():
        info = sh("xwininfo", "-id", wid)
        size = re.search(r"Width:\s+(\d+).*?Height:\s+(\d+)", info, re.S)
        if size and (int(size[1]), int(size[2])) == (1280, 720) and "Override Redirect State: yes" in info:
            found.append(wid)
    return found


def launch(tmp_path, keyring_env, *args: str) -> subprocess.CompletedProcess:
    env = dict(keyring_env)
    env.update(DISPLAY=os.environ["DISPLAY"], PYSTRAY_BACKEND="gtk",
               SNAPLARK_CONFIG=str(tmp_path / "cfg" / "config.toml"), SNAPLARK_DATA_DIR=str(tmp_path / "data"),
               SNAPLARK_LOG_DIR=str(tmp_path / "log"), SNAPLARK_CLIPBOARD="linux")
    return subprocess.run([sys.executable, "-m", "tray", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_second_launch_with_another_config_is_refused_and_opens_nothing(desktop, keyring_env):  # noqa: F811
    app, _, tmp_path = desktop
    running_config = (tmp_path / "cfg" / "config.toml").resolve()
    other = tmp_path / "other.toml"
    other.write_text("schema_version = 2\n[capture]\nfps = 12\n")
    assert selector_windows() == []

    mark = len(app.log())
    out = launch(tmp_path, keyring_env, "--config", str(other))
    assert out.returncode == 1, (out.returncode, out.stdout, out.stderr)
    assert (f"another Snaplark is already running with the settings file {running_config}; this launch uses "
            f"{other.resolve()}") in out.stderr, out.stderr
    assert "capture a region" not in out.stdout
    app.wait_log(r"another launch with the settings file \S*other\.toml was told to quit", 10, mark)
    time.sleep(2)  # give a (wrongly) forwarded capture time to show up
    assert "selector shown" not in app.log()[mark:]
    assert selector_windows() == []
    assert app.proc.poll() is None, "the running app must keep running"

    # the same settings file: today's behaviour, the running app captures a region (and the check above can see it)
    mark = len(app.log())
    out = launch(tmp_path, keyring_env)
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert "Snaplark is already running; asked it to capture a region." in out.stdout
    app.wait_log(r"selector shown", 15, mark)
    wait_until(selector_windows, 10, "selector window on screen")
    subprocess.run(["xdotool", "key", "Escape"], check=True, timeout=10)
    wait_until(lambda: selector_windows() == [], 10, "selector closed by Escape")
