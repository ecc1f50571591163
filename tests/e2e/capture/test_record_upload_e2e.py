"""Recorder -> RecordingSink -> upload engine -> reference server: the server's copy is the local file, byte for byte."""

from __future__ import annotations

import hashlib

import pytest
import requests

from tray_platform.base import Region

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
