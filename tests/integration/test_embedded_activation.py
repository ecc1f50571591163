"""The app's embedded server starts on first use (tray.services.connect_server + snaplark_server.activation): right after
connecting, the web stack, the HTTP client stack and the keyring are not loaded (the idle tray app's memory), the
port is already owned; the first request wakes everything, the local user's token goes to the real keyring, and a
screenshot uploads and downloads byte-identical."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from tests.integration.keyring_session import keyring_here, private_keyring_env  # noqa: F401 - fixtures

SCRIPT = r"""
import json, socket, sys
from pathlib import Path
from tray.services import connect_server
from tray.config import settings_from_dict

HEAVY = ("fastapi", "uvicorn", "starlette", "pydantic", "requests", "keyring", "secretstorage")
settings = settings_from_dict({"schema_version": 2, "server": {"embedded_port": int(sys.argv[1])}})
conn = connect_server(settings, data_dir=Path(sys.argv[2]), lazy=True)
report = {"idle_loaded": sorted(m for m in HEAVY if m in sys.modules), "active_before": conn.embedded.active}
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    report["port_owned"] = s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0
client = conn.client()
import io
from PIL import Image
buf = io.BytesIO()
Image.new("RGB", (64, 48), (200, 30, 90)).save(buf, "PNG")
png = buf.getvalue()
url = client.upload_screenshot(png, "one.png")
import requests
report["same_bytes"] = requests.get(url, timeout=10).content == png
report["active_after"] = conn.embedded.active
report["loaded_after"] = sorted(m for m in HEAVY if m in sys.modules)
import keyring
report["token_in_keyring"] = bool(keyring.get_password("snaplark", conn.api_url))
client.close()
conn.close()
print(json.dumps(report))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_embedded_server_wakes_on_first_use(private_keyring_env, tmp_path):
    env = dict(private_keyring_env, SNAPLARK_DATA_DIR=str(tmp_path / "data"), SNAPLARK_LOG_DIR=str(tmp_path / "log"),
               SNAPLARK_CONFIG=str(tmp_path / "config.toml"))
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(_free_port()), str(tmp_path / "data")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["idle_loaded"] == [], report
    assert report["port_owned"] and report["active_before"] is False
    assert report["same_bytes"] and report["active_after"] and report["token_in_keyring"]
    assert {"fastapi", "uvicorn", "requests", "keyring"} <= set(report["loaded_after"])


class _MemoryKeyring:
    """The OS keyring edge, in memory (the keyring itself is covered above and in test_token_store.py)."""

    def __init__(self):
        self.tokens: dict[str, str] = {}

    def get(self, url):
        return self.tokens.get(url)

    def set(self, url, token):
        self.tokens[url] = token


def _settings(port: int):
    from tray.config import settings_from_dict

    return settings_from_dict({"schema_version": 2, "server": {"embedded_port": port}})


def test_cli_connection_starts_it_at_once(tmp_path):
    from tray.services import connect_server

    store = _MemoryKeyring()
    conn = connect_server(_settings(_free_port()), token_store=store, data_dir=tmp_path / "data")
    try:
        assert conn.embedded.active and list(store.tokens) == [conn.api_url]
        client = conn.client()
        assert client.me() == {"user": "local"}
        client.close()
    finally:
        conn.close()


def test_cli_connection_reports_a_server_that_cannot_start(tmp_path):
    import pytest

    from tray.services import ServerUnavailable, connect_server

    blocker = tmp_path / "data"
    blocker.write_text("a file where the data dir should be")
    port = _free_port()
    with pytest.raises(ServerUnavailable, match=f"127.0.0.1:{port} could not start"):
        connect_server(_settings(port), token_store=_MemoryKeyring(), data_dir=blocker)
    with socket.socket() as s:  # the port was given back
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_tray_connection_tells_when_the_server_cannot_start(tmp_path):
    from tray.api.errors import Offline
    from tray.services import connect_server

    blocker = tmp_path / "data"
    blocker.write_text("a file where the data dir should be")
    conn = connect_server(_settings(_free_port()), token_store=_MemoryKeyring(), data_dir=blocker, lazy=True)
    failures: list[BaseException] = []
    conn.embedded.on_failed = failures.append
    try:
        client = conn.client(connect_timeout=5.0, min_read_timeout=5.0)
        try:
            client.health()
        except Offline:
            pass  # the socket is closed once activation failed: refused, not a hang
        assert conn.embedded.wait_active(10) is False
        assert len(failures) == 1 and isinstance(failures[0], OSError)
    finally:
        conn.close()
