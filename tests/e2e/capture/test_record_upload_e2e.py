"""Recorder -> RecordingSink -> upload engine -> reference server: the server's copy is the local file, byte for byte."""

from __future__ import annotations

import hashlib

import pytest
import requests

from tray_platform.base import Region

from tests.share_links import file_of

pytestmark = pytest.mark.e2e


def test_recording_uploads_through_the_sink_and_server_copy_is_sha256_identical(pattern_display, server, tmp_path):
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    journal = UploadJournal(tmp_path / "journal.sqlite3").open()
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal,
                          server_url=server.api_url)
    uploads = []

    def sink_factory(path, metadata):
        uploads.append(engine.start_recording_upload(path, metadata))
        return uploads[-1]

    try:
        path = tmp_path / "up.webm"
        rec = pattern_display.recorder(path, region=Region(640, 240, 320, 160), fps=10, max_duration=2.5,
                                       sink_factory=sink_factory)
        rec.start()
        assert rec.wait(30)
        assert rec.result.error is None
        url = uploads[0].wait(60)
        body = requests.get(url, timeout=30)
        assert body.status_code == 200
        local = path.read_bytes()
        assert hashlib.sha256(body.content).hexdigest() == hashlib.sha256(local).hexdigest()
        assert len(body.content) == rec.result.total_bytes
    finally:
        engine.stop()
        journal.close()


def test_snaplark_record_cli_uploads_to_the_embedded_server_and_prints_the_link(pattern_display, tmp_path):
    """``snaplark record`` with no server configured: embedded server, upload while recording, link printed."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(f"[server]\nembedded_port = {port}\n")
    out = tmp_path / "cli.webm"
    env = pattern_display.env(SNAPLARK_CONFIG=str(config), SNAPLARK_DATA_DIR=str(tmp_path / "data"),
                              SNAPLARK_LOG_DIR=str(tmp_path / "log"),
                              PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    r = subprocess.run([sys.executable, "-m", "tray.cli", "record", "--region", "640,240,320,160", "--fps", "10",
                        "--duration", "2", "--output", str(out)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip().splitlines()[-1]
    assert url.startswith(f"http://127.0.0.1:{port}/v/")  # the share page (upload.copy = "page", the default)

    # the embedded server lived in that process; serve its data dir again and fetch the link
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread

    with ServerThread(ServerConfig(port=port, data_dir=tmp_path / "data" / "server")):
        file_url = file_of(url)
        body = requests.get(file_url, timeout=30)
    assert body.status_code == 200 and file_url.endswith(".webm")
    assert hashlib.sha256(body.content).hexdigest() == hashlib.sha256(out.read_bytes()).hexdigest()


CRASHING_RECORDER = r"""
import os, sys
from tray.api.client import ApiClient
from tray.capture.recorder import Recorder
from tray.upload.engine import UploadEngine
from tray.upload.journal import UploadJournal
from tray_platform.base import Region

out, journal_path, api_url = sys.argv[1:4]
token = os.environ["SNAPLARK_TEST_TOKEN"]
journal = UploadJournal(journal_path).open()
engine = UploadEngine(lambda: ApiClient(api_url, lambda: token), journal, server_url=api_url)


class Tee:
    def __init__(self, upload):
        self.upload = upload

    def durable(self, n):
        self.upload.durable(n)
        print("durable", n, flush=True)

    def finished(self, *a):
        self.upload.finished(*a)

    def failed(self, reason):
        self.upload.failed(reason)


rec = Recorder(out, region=Region(640, 240, 320, 160), fps=10, max_duration=120,
               sink_factory=lambda p, m: Tee(engine.start_recording_upload(p, m)))
rec.start()
rec.wait(150)
"""


def test_kill_9_mid_recording_then_restart_uploads_and_finalizes_what_was_written(pattern_display, server, tmp_path):
    """Acceptance: SIGKILL while recording + uploading; a new engine resumes from the journal, uploads the file as
    the crash left it, finalizes, and the server's copy decodes."""
    import signal
    import subprocess
    import sys
    import threading

    import av

    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    out, journal_path = tmp_path / "crash.webm", tmp_path / "journal.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_RECORDER, str(out), str(journal_path), server.api_url],
                            env=pattern_display.env(SNAPLARK_TEST_TOKEN=server.token), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            seen.append(line)
            if len(seen) >= 4:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(60)
    try:
        assert len(seen) >= 4, (seen, proc.stderr.read() if proc.poll() is not None else "")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    left_on_disk = out.read_bytes()

    journal = UploadJournal(journal_path).open()
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal,
                          server_url=server.api_url)
    try:
        resumed = engine.resume_all()
        assert len(resumed) == 1
        url = resumed[0].wait(60)
    finally:
        engine.stop()
        journal.close()
    body = requests.get(url, timeout=30)
    assert body.status_code == 200
    assert hashlib.sha256(body.content).hexdigest() == hashlib.sha256(left_on_disk).hexdigest()
    served = tmp_path / "served.webm"
    served.write_bytes(body.content)
    with av.open(str(served)) as c:
        pts = [float(f.pts * f.time_base) for f in c.decode(c.streams.video[0])]
    assert len(pts) >= 20 and pts[-1] >= 2.0  # ≥ 3 durable notices: at least ~3 s of clusters were flushed
