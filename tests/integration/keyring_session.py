"""A private, unlocked GNOME Keyring for tests: own D-Bus session bus, throwaway HOME, no desktop needed.

Steps (the same work by hand in a shell):
  1. make a throwaway HOME with XDG_RUNTIME_DIR (0700), XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME inside it;
  2. ``dbus-daemon --session --nofork --print-address=1`` -> first stdout line is DBUS_SESSION_BUS_ADDRESS;
  3. ``gnome-keyring-daemon --foreground --unlock --components=secrets`` with that env, the password written to
     its stdin and stdin closed: it creates the ``login`` collection (the default) and unlocks it;
  4. wait until ``org.freedesktop.secrets`` has an owner on the bus (else D-Bus activation could start a second,
     locked daemon); then ``keyring.get_keyring()`` resolves to ``keyring.backends.SecretService.Keyring``.
Teardown stops both processes (SIGTERM, then SIGKILL after a bound).

Meant for promotion to ``tests/conftest.py`` as the shared ``keyring_env`` fixture.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.procutil import die_with_parent
from tests.procutil import stop_process as _stop

SECRETS_NAME = "org.freedesktop.secrets"
TOOLS = ("dbus-daemon", "gnome-keyring-daemon")


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().strip() if ready else ""


def _name_has_owner(address: str, name: str) -> bool:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
    with open_dbus_connection(bus=address) as conn:
        reply = conn.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s", (name,)), timeout=5)
    return bool(reply.body[0])


@contextmanager
def private_keyring(root: Path, password: str = "snaplark-test-password", *, unlock: bool = True,
                    timeout: float = 15.0) -> Iterator[dict[str, str]]:
    """Start the bus and an unlocked keyring under ``root``; yield the environment (a full ``os.environ``
    copy with the D-Bus address, HOME and XDG dirs) for subprocesses or ``monkeypatch.setenv``.

    ``unlock=False`` starts the daemon without a password: a keyring created earlier under the same ``root`` is
    then locked. The bus runs without DISPLAY, so an unlock prompt (gcr-prompter, D-Bus activated) fails at once
    instead of waiting for a click on a virtual display."""
    home = root / "home"
    runtime = root / "run"
    for d in (home, runtime, home / ".local" / "share", home / ".config", home / ".cache"):
        d.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env = dict(os.environ)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    env.pop("GNOME_KEYRING_CONTROL", None)
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_DATA_HOME=str(home / ".local" / "share"),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))

    bus_env = {k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], env=bus_env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=die_with_parent)
    daemon = None
    try:
        address = _read_line(bus, timeout)
        if not address:
            raise RuntimeError(f"dbus-daemon printed no address within {timeout} s")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        args = ["gnome-keyring-daemon", "--foreground", "--components=secrets"] + (["--unlock"] if unlock else [])
        daemon = subprocess.Popen(args, env=dict(bus_env, DBUS_SESSION_BUS_ADDRESS=address),
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  preexec_fn=die_with_parent)
        assert daemon.stdin is not None
        if unlock:
            daemon.stdin.write(password.encode())
        daemon.stdin.close()
        deadline = time.monotonic() + timeout
        while not _name_has_owner(address, SECRETS_NAME):
            if daemon.poll() is not None:
                raise RuntimeError(f"gnome-keyring-daemon exited with {daemon.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gnome-keyring-daemon did not own {SECRETS_NAME} within {timeout} s")
            time.sleep(0.02)
        yield env
    finally:
        if daemon is not None:
            _stop(daemon)
        _stop(bus)


# ------------------------------------------------------------------------------------------- pytest fixtures
REQUIRE_ALL = os.environ.get("SNAPLARK_REQUIRE_ALL") == "1"

KEYRING_ENV_VARS = ("DBUS_SESSION_BUS_ADDRESS", "HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME",
                    "XDG_CACHE_HOME")


def need_keyring_tools() -> None:
    missing = missing_tools()
    if missing:
        msg = f"needs {', '.join(missing)} (apt-get install dbus gnome-keyring; .ci/run does)"
        pytest.fail(msg) if REQUIRE_ALL else pytest.skip(msg)


@pytest.fixture(scope="module")
def private_keyring_env(tmp_path_factory):
    """Environment of a running, unlocked gnome-keyring on its own bus (one per test module)."""
    need_keyring_tools()
    root = tmp_path_factory.mktemp("keyring")
    with private_keyring(root) as env:
        env["SNAPLARK_TEST_KEYRING_ROOT"] = str(root)
        yield env


@pytest.fixture
def keyring_here(private_keyring_env, monkeypatch):
    """Point this process at the private keyring for one test."""
    for name in KEYRING_ENV_VARS:
        monkeypatch.setenv(name, private_keyring_env[name])
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    return private_keyring_env
