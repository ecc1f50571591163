"""``snaplark login`` / ``logout`` end to end: real reference server over HTTP, real gnome-keyring, CLI in a
subprocess. The token must never reach the log file, the settings file or the terminal."""

from __future__ import annotations

import logging
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.integration.keyring_session import keyring_here, private_keyring_env  # noqa: F401 - fixtures
from tray.api.client import ApiClient
from tray.api.errors import ApiError, AuthRequired
from tray.api.token_store import TokenStore


@pytest.fixture
def cli_env(private_keyring_env, tmp_path):
    """Environment for `python -m tray`: the private keyring plus tmp config/data/log dirs."""
    env = dict(private_keyring_env)
    env.update(SNAPLARK_CONFIG=str(tmp_path / "cfg" / "config.toml"), SNAPLARK_DATA_DIR=str(tmp_path / "data"),
               SNAPLARK_LOG_DIR=str(tmp_path / "log"))
    return env


def snaplark(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    # start_new_session: no controlling terminal, so getpass falls back to stdin instead of /dev/tty
    return subprocess.run([sys.executable, "-m", "tray", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60, start_new_session=True)


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def assert_nowhere(token: str, *roots: Path) -> None:
    for p in files_under(*roots):
        assert token.encode() not in p.read_bytes(), f"token found in {p}"


def test_login_verifies_stores_in_keyring_and_sets_server_url(server, cli_env, keyring_here, tmp_path):
    out = snaplark(cli_env, "-v", "login", "--server", server.api_url, "--token-stdin", stdin=server.token + "\n")
    assert out.returncode == 0, out.stderr
    assert f"Logged in to {server.api_url} as alice" in out.stdout
    assert TokenStore().get(server.api_url) == server.token
    cfg = Path(cli_env["SNAPLARK_CONFIG"])
    assert tomllib.loads(cfg.read_text())["server"]["url"] == server.api_url
    assert server.token not in out.stdout + out.stderr
    assert_nowhere(server.token, tmp_path / "cfg", tmp_path / "log", tmp_path / "data")

    # logout removes it; a second logout says there was nothing
    out = snaplark(cli_env, "logout")
    assert out.returncode == 0 and f"Logged out of {server.api_url}" in out.stdout
    assert TokenStore().get(server.api_url) is None
    out = snaplark(cli_env, "logout")
    assert out.returncode == 0 and "No token was stored" in out.stdout


def test_token_never_in_log_or_config_after_login_and_failing_requests(server, cli_env, keyring_here, tmp_path):
    from tray.log import setup_logging

    out = snaplark(cli_env, "-v", "login", "--server", server.api_url, "--token-stdin", stdin=server.token)
    assert out.returncode == 0, out.stderr

    # this process now logs (DEBUG) into the same log dir as the CLI did, like the app would
    log_dir = tmp_path / "log"
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        log_file = setup_logging(verbose=True, log_dir=log_dir)
        store = TokenStore()
        client = ApiClient(server.api_url, lambda: store.get(server.api_url))
        assert client.me()["user"] == "alice"
        with pytest.raises(ApiError) as bad_upload:  # not a PNG: the server refuses it
            client.upload_screenshot(b"this is not a png", "screenshot-1.png")
        assert bad_upload.value.status in (415, 422)
        logging.getLogger("tray.test").exception("upload failed: %s", bad_upload.value)
        from snaplark_server.users import ensure_local_user

        ensure_local_user(server.data_dir, "alice")  # rotates alice's token: ours is now revoked
        with pytest.raises(AuthRequired):
            client.me()
        logging.getLogger("tray.test").warning("request with Authorization: Bearer %s failed", store.get(
            server.api_url))  # a careless log line: the redactor must catch it
        client.close()
    finally:
        for h in list(root.handlers):
            if h not in before:
                h.flush()
                root.removeHandler(h)
                h.close()
    text = log_file.read_text()
    assert "GET /me" in text or "/me" in text  # the log really recorded the requests
    assert "upload failed" in text and "Bearer [REDACTED]" in text
    assert server.token not in text
    assert_nowhere(server.token, tmp_path / "cfg", log_dir, tmp_path / "data")
    TokenStore().delete(server.api_url)


def test_login_with_wrong_token_stores_nothing(server, cli_env, keyring_here, tmp_path):
    wrong = "definitely-not-a-valid-token-4711"
    out = snaplark(cli_env, "login", "--server", server.api_url, "--token-stdin", stdin=wrong)
    assert out.returncode == 1
    assert "rejected this token" in out.stderr and "Traceback" not in out.stderr
    assert TokenStore().get(server.api_url) is None
    assert not Path(cli_env["SNAPLARK_CONFIG"]).exists()  # server.url only changes after a successful login
    assert wrong not in out.stdout + out.stderr
    assert_nowhere(wrong, tmp_path / "log", tmp_path / "cfg")


def test_login_prompts_without_echo_when_no_token_stdin(server, cli_env, keyring_here):
    out = snaplark(cli_env, "login", "--server", server.api_url, stdin=server.token + "\n")
    assert out.returncode == 0, out.stderr
    assert f"API token for {server.api_url}" in out.stderr  # the getpass prompt
    assert server.token not in out.stdout + out.stderr
    assert TokenStore().get(server.api_url) == server.token
    TokenStore().delete(server.api_url)


def test_login_with_server_root_finds_the_api(server, cli_env, keyring_here):
    out = snaplark(cli_env, "login", "--server", server.url, "--token-stdin", stdin=server.token)
    assert out.returncode == 0, out.stderr
    assert f"Logged in to {server.api_url}" in out.stdout
    assert TokenStore().get(server.api_url) == server.token
    TokenStore().delete(server.api_url)


def test_login_uses_configured_server_url(server, cli_env, keyring_here):
    assert snaplark(cli_env, "config", "set", "server.url", server.api_url).returncode == 0
    out = snaplark(cli_env, "login", "--token-stdin", stdin=server.token)
    assert out.returncode == 0, out.stderr
    assert TokenStore().get(server.api_url) == server.token
    TokenStore().delete(server.api_url)


def test_login_to_unreachable_server(cli_env, keyring_here):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/v1"
    out = snaplark(cli_env, "login", "--server", url, "--token-stdin", stdin="some-token-value")
    assert out.returncode == 1 and "cannot reach" in out.stderr
    assert TokenStore().get(url) is None


def test_login_without_server_is_usage_error(cli_env):
    out = snaplark(cli_env, "login", "--token-stdin", stdin="x")
    assert out.returncode == 2 and "no server configured" in out.stderr


def test_login_without_keyring_refuses_before_reading_token(server, cli_env, tmp_path):
    env = dict(cli_env, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    out = snaplark(env, "login", "--server", server.api_url, "--token-stdin", stdin=server.token)
    assert out.returncode == 2
    assert "no usable keyring" in out.stderr and "gnome-keyring" in out.stderr and "Traceback" not in out.stderr
    assert not Path(cli_env["SNAPLARK_CONFIG"]).exists()
    assert_nowhere(server.token, tmp_path)
