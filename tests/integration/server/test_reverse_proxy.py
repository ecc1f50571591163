"""The README's nginx example, as printed there, in front of the reference server: a real nginx from apt with TLS
(a throwaway self-signed certificate), the real upload engine through it. What must hold for an operator who copies
the example: uploads (live recording streamed in parts, screenshot) arrive byte-identical, parts are streamed
through rather than refused for size, and the links the server hands out point at the proxy (https, its host and
port), not at the server behind it."""

from __future__ import annotations

import hashlib
import io
import random
import re
import subprocess
from pathlib import Path

import pytest
import requests

from snaplark_server.config import ServerConfig
from snaplark_server.runner import ServerThread
from snaplark_server.users import ensure_local_user

from tests.integration.upload.helpers import MIB, sha256_file
from tests.nginx import free_port, running_nginx
from tests.procutil import need_tool, wait_until

README = Path(__file__).resolve().parents[3] / "README.md"
EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # a Matroska/WebM file starts with it (the server checks containers at finalize)


def readme_nginx_block() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1, "the README should show exactly one nginx example"
    return blocks[0]


@pytest.fixture
def proxied(tmp_path):
    """(server thread, token, https base URL through nginx, CA file the client trusts)."""
    need_tool("nginx", "openssl")
    srv = ServerThread(ServerConfig(data_dir=tmp_path / "data", port=0, cleanup_interval=3600.0)).start()
    token = ensure_local_user(tmp_path / "data", "alice")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    block = readme_nginx_block()
    # only what must differ on a test machine: the address, the certificate files and the server's port
    for old, new in ((r"listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
                     (r"ssl_certificate     \S+;", f"ssl_certificate     {cert};"),
                     (r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};"),
                     (r"proxy_pass http://127\.0\.0\.1:8765;", f"proxy_pass http://127.0.0.1:{srv.port};")):
        block, n = re.subn(old, new.replace("\\", "\\\\"), block)
        assert n == 1, f"the README's nginx example no longer has {old!r}"
    base = f"https://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/health", verify=str(cert), timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        with running_nginx(tmp_path / "nginx", block, up):
            yield srv, token, base, str(cert)
    finally:
        srv.stop(timeout=10)


def make_engine(api_url: str, token: str, ca: str, journal):
    from tray.api.client import ApiClient
    from tray.upload.backoff import Sleeper
    from tray.upload.engine import UploadEngine

    return UploadEngine(lambda: ApiClient(api_url, lambda: token, verify=ca), journal, sleeper=Sleeper(scale=0.01),
                        rng=random.Random(1), server_url=api_url)


def sent_while_recording(parts, durable: int, floor: int = 65536) -> bool:
    """Every part but 0 acknowledged, and what is not cut yet is under the streaming floor (the server's minimum
    part size: 64 KiB on local storage, 5 MiB on S3)."""
    return bool(parts) and all(p.acked for p in parts[1:]) and durable - (parts[-1].offset + parts[-1].length) < floor


@pytest.fixture
def journal(tmp_path):
    from tray.upload.journal import UploadJournal

    j = UploadJournal(tmp_path / "client" / "uploads.sqlite3").open()
    yield j
    j.close()


def test_live_recording_through_the_readme_nginx(proxied, journal, tmp_path):
    srv, token, base, ca = proxied
    path = tmp_path / "rec.webm"
    engine = make_engine(f"{base}/api/v1", token, ca, journal)
    size = 13 * MIB + 11
    rng = random.Random(5)
    path.write_bytes(EBML_MAGIC + rng.randbytes(size - len(EBML_MAGIC)))
    try:
        up = engine.start_recording_upload(path, {"resolution": "1280x720"})
        # ~1 s flushes of 700 KiB are streamed as small parts (our server says minPartSize); one 6 MiB jump (as after
        # an outage) goes as a 5 MiB part, so both sizes cross nginx
        marks = list(range(700 * 1024, 6 * MIB, 700 * 1024)) + list(range(12 * MIB, size, 700 * 1024))
        wait_until(lambda: up.server_session_id is not None, 30, "the server session")
        for n in marks:
            up.durable(n)
            wait_until(lambda: sent_while_recording(journal.parts(up.id), n), 30, f"parts up to {n} sent")
        with open(path, "r+b") as f:  # the muxer's header rewrite at close
            f.seek(40)
            f.write(rng.randbytes(386))
        up.finished(size, 13.0, {})
        url = up.wait(60)
    finally:
        assert engine.stop(10)
    assert url.startswith(f"{base}/v/"), f"the link must point at the proxy ({base}), got {url}"
    r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, verify=ca, timeout=30)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha256_file(path)
    parts = journal.parts(up.id)
    assert max(p.length for p in parts) >= 5 * MIB and len(parts) > 4  # both kinds of part went through nginx


def test_screenshot_through_the_readme_nginx(proxied, journal, tmp_path):
    from PIL import Image

    srv, token, base, ca = proxied
    png = tmp_path / "shot.png"
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), (12, 200, 90)).save(buf, "PNG")
    png.write_bytes(buf.getvalue())
    engine = make_engine(f"{base}/api/v1", token, ca, journal)
    try:
        url = engine.upload_screenshot(png).wait(30)
    finally:
        assert engine.stop(10)
    assert url.startswith(f"{base}/s/"), f"the link must point at the proxy ({base}), got {url}"
    r = requests.get(url, verify=ca, timeout=10)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == hashlib.sha256(buf.getvalue()).hexdigest()
