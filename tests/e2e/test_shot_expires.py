"""``snaplark shot --upload --expires`` end to end (issue 15): real Xvfb, real keyring, CLI in a subprocess, against
the reference server (the link says when it expires, the page shows it) and the strict seed-only server (the
client says the server ignored the expiry)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from tray.api.token_store import TokenStore
from tests.e2e.test_shot import _config, _env

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("kind", ["reference", "seed"])
def test_shot_upload_expires(xvfb, keyring_env, tmp_path, kind):
    from tests.server_kinds import make_server

    srv = make_server(kind, tmp_path / "srv").start()
    try:
        TokenStore().set(srv.api_url, srv.token)
        proc = subprocess.run([sys.executable, "-m", "tray", "--config", _config(tmp_path, srv.api_url), "shot",
                               "--screen", "0", "--upload", "--expires", "2h", "--output", str(tmp_path / "s.png")],
                              env=_env(keyring_env), capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        link = proc.stdout.strip().splitlines()[-1]
        if kind == "seed":
            assert "snaplark shot: " in proc.stderr and "ignored the expiry" in proc.stderr
            assert requests.get(link, timeout=10).status_code == 200
        else:
            assert f"snaplark shot: {link} expires at " in proc.stderr
            page = requests.get(link, timeout=10).text
            assert 'class="expires">in <time' in page and ("2 hours</time>" in page or "1 hour</time>" in page)
    finally:
        srv.stop()
