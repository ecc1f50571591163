"""TokenStore against a REAL keyring: gnome-keyring-daemon on a private D-Bus session bus (no mocks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.keyring_session import (  # noqa: F401 - fixtures
    KEYRING_ENV_VARS, keyring_here, need_keyring_tools, private_keyring, private_keyring_env)
from tray.api.token_store import KeyringUnavailable, TokenStore, normalize_server_url


def test_keyring_library_picks_secret_service_in_a_fresh_process(private_keyring_env):
    code = ("import keyring; from tray.api.token_store import TokenStore; "
            "print(type(keyring.get_keyring()).__module__); print(TokenStore().backend_name())")
    out = subprocess.run([sys.executable, "-c", code], env=private_keyring_env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    chosen, ours = out.stdout.split()
    # keyring's own pick: the Secret Service, or a chain when libsecret's GObject bindings are installed too (Debian's
    # chromium pulls in gir1.2-secret-1); ours is always one Secret Service member, never a plaintext one
    assert chosen in ("keyring.backends.SecretService", "keyring.backends.libsecret", "keyring.backends.chainer"), chosen
    assert ours in ("keyring.backends.SecretService.Keyring", "keyring.backends.libsecret.Keyring"), ours


def test_set_get_delete_round_trip(keyring_here):
    store = TokenStore()
    url = "http://127.0.0.1:8765/api/v1"
    assert store.get(url) is None
    store.set(url, "tok-round-trip-1")
    assert store.get(url) == "tok-round-trip-1"
    store.set(url, "tok-round-trip-2")  # replaces
    assert store.get(url) == "tok-round-trip-2"
    assert TokenStore().get(url) == "tok-round-trip-2"  # a new store object sees the keyring, not memory
    assert store.delete(url) is True
    assert store.get(url) is None
    assert store.delete(url) is False


def test_tokens_are_kept_per_server_url(keyring_here):
    store = TokenStore()
    a, b = "https://a.example/api/v1", "https://b.example/api/v1"
    store.set(a, "token-for-a")
    store.set(b, "token-for-b")
    assert (store.get(a), store.get(b)) == ("token-for-a", "token-for-b")
    # the same server spelled differently is the same key
    assert store.get("HTTPS://A.example:443/api/v1/") == "token-for-a"
    store.delete(a)
    assert store.get(a) is None and store.get(b) == "token-for-b"
    store.delete(b)


def test_service_name_separates_stores(keyring_here):
    url = "https://c.example/api/v1"
    TokenStore().set(url, "main-token")
    other = TokenStore(service="snaplark-other")
    assert other.get(url) is None
    TokenStore().delete(url)


def test_token_is_not_stored_in_plaintext_anywhere_under_home(keyring_here):
    token = "plain-check-7f3a9c2e41d8b6a5"
    TokenStore().set("https://d.example/api/v1", token)
    home = Path(keyring_here["HOME"])
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".keyring" for p in files), files  # the keyring really wrote its encrypted file
    for p in files:
        assert token.encode() not in p.read_bytes(), p
    TokenStore().delete("https://d.example/api/v1")


def test_invalid_inputs(keyring_here):
    store = TokenStore()
    with pytest.raises(ValueError):
        store.set("https://e.example/api/v1", "")
    with pytest.raises(ValueError):
        store.set("https://e.example/api/v1", " padded ")
    with pytest.raises(ValueError):
        store.get("not-a-url")


@pytest.mark.parametrize("backend", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"])
def test_fail_and_null_backends_are_refused_with_a_fix(keyring_here, monkeypatch, backend):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    store = TokenStore()
    with pytest.raises(KeyringUnavailable) as err:
        store.set("https://f.example/api/v1", "never-stored-token")
    message = str(err.value)
    assert backend.rsplit(".", 1)[0] in message
    assert "gnome-keyring" in message and "KWallet" in message and "PYTHON_KEYRING_BACKEND" in message
    assert "never-stored-token" not in message
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    assert TokenStore().get("https://f.example/api/v1") is None  # nothing reached the real keyring either


def test_plaintext_backend_is_refused(tmp_path):
    from keyring.backend import KeyringBackend

    written = []

    class PlaintextKeyring(KeyringBackend):  # what keyrings.alt.file.PlaintextKeyring is: a file on disk
        priority = 0.5

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            written.append(password)

        def delete_password(self, service, username):
            pass

    with pytest.raises(KeyringUnavailable) as err:
        TokenStore(backend=PlaintextKeyring()).set("https://g.example/api/v1", "plaintext-token")
    assert written == [] and "refuses" in str(err.value)


def test_no_secret_service_on_the_bus_is_a_clear_error(tmp_path):
    """A session without any keyring daemon: the store refuses instead of falling back to a file."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/no-bus", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / ".config"), XDG_DATA_HOME=str(tmp_path / ".local"))
    code = ("from tray.api.token_store import TokenStore, KeyringUnavailable\n"
            "try:\n    TokenStore().set('https://h.example/api/v1', 'tok-nowhere-123')\n"
            "except KeyringUnavailable as e:\n    print('UNAVAILABLE', e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("UNAVAILABLE no usable keyring") and "gnome-keyring" in out.stdout
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and b"tok-nowhere-123" in p.read_bytes()]
    assert leaked == []


def test_daemon_gone_mid_run_is_keyring_unavailable(tmp_path, monkeypatch):
    need_keyring_tools()
    with private_keyring(tmp_path / "short") as env:
        for name in KEYRING_ENV_VARS:
            monkeypatch.setenv(name, env[name])
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        store = TokenStore()
        store.set("https://i.example/api/v1", "short-lived-token")
        assert store.get("https://i.example/api/v1") == "short-lived-token"
    with pytest.raises(KeyringUnavailable) as err:
        store.get("https://i.example/api/v1")
    assert "cannot read the token" in str(err.value)


def test_normalize_server_url():
    assert normalize_server_url("HTTP://Example.COM:80/api/v1/") == "http://example.com/api/v1"
    assert normalize_server_url("https://example.com:8443/api/v1") == "https://example.com:8443/api/v1"
    assert normalize_server_url("http://[::1]:8765/api/v1") == "http://[::1]:8765/api/v1"
    with pytest.raises(ValueError):
        normalize_server_url("ftp://example.com")


def test_locked_keyring_is_keyring_unavailable_not_a_hang(tmp_path, monkeypatch):
    """The daemon runs but the login keyring is locked and no prompt can be shown (headless)."""
    need_keyring_tools()
    root = tmp_path / "lockable"
    with private_keyring(root, password="first-password") as env:
        subprocess.run([sys.executable, "-c", "from tray.api.token_store import TokenStore; "
                        "TokenStore().set('https://j.example/api/v1', 'locked-away-token')"],
                       env=env, check=True, timeout=60)
    with private_keyring(root, unlock=False) as env:
        env.pop("DISPLAY", None)
        code = ("from tray.api.token_store import TokenStore, KeyringUnavailable\n"
                "try:\n    print(TokenStore().get('https://j.example/api/v1'))\n"
                "except KeyringUnavailable as e:\n    print('UNAVAILABLE', e)\n")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("UNAVAILABLE") and "KeyringLocked" in out.stdout
    assert "locked-away-token" not in out.stdout


def test_store_finds_the_keyring_even_if_keyring_cached_no_backend_earlier(private_keyring_env, tmp_path):
    """keyring caches its backend choice per process; a bus that appears later must still be used."""
    code = (
        "import os, keyring\n"
        "bus = os.environ.pop('DBUS_SESSION_BUS_ADDRESS')\n"
        "os.environ['DBUS_SESSION_BUS_ADDRESS'] = 'unix:path=/nonexistent/bus'\n"
        "print(type(keyring.get_keyring()).__module__)\n"  # computed (and cached) without a reachable bus
        "os.environ['DBUS_SESSION_BUS_ADDRESS'] = bus\n"
        "from tray.api.token_store import TokenStore\n"
        "s = TokenStore(); s.set('https://k.example/api/v1', 'late-bus-token'); print(s.backend_name())\n"
        "print(s.get('https://k.example/api/v1')); s.delete('https://k.example/api/v1')\n")
    out = subprocess.run([sys.executable, "-c", code], env=private_keyring_env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    first, backend, token = out.stdout.split()
    assert first != "keyring.backends.SecretService"
    assert (backend, token) == ("keyring.backends.SecretService.Keyring", "late-bus-token")
