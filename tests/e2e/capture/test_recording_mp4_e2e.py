"""MP4 recordings (issue 15) on a real display: mss frames -> libx264 -> fragmented MP4 -> upload while recording.

The private Xvfb shows pattern_window.py (moving bar + noise, so every frame differs). Checked: the file decodes as
H.264 yuv420p with the recorder's duration (± 50 ms); no byte reported durable changes at close (the muxer only
appends); uploaded while recording to the reference server, whose copy is the local file byte for byte, served as
``video/mp4`` under ``.mp4``; ``snaplark record --format mp4`` from the command line plays.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import pytest
import requests

from tray_platform.base import Region

from tray.capture.recorder import RecorderState

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")

REGION = Region(320, 120, 480, 270)


def probe(path) -> dict:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        pts = [float(f.pts * f.time_base) for f in c.decode(v)]
        return {"format": c.format.name, "duration": c.duration / 1e6, "video": v.codec_context.name,
                "pix_fmt": v.codec_context.pix_fmt, "size": (v.width, v.height),
                "audio": [a.codec_context.name for a in c.streams.audio], "frames": len(pts), "last_pts": pts[-1]}


def test_mp4_recording_decodes_as_h264_with_the_recorders_duration_and_no_byte_changes_at_close(
        pattern_display, sink_log, tmp_path):
    path = tmp_path / "rec.mp4"
    sink_log.path = path
    rec = pattern_display.recorder(path, format="mp4", region=REGION, fps=30, max_duration=6.0, sink=sink_log)
    rec.start()
    assert rec.wait(60) and rec.state is RecorderState.FINISHED
    result = rec.result
    assert result.error is None and result.metadata["codec"] == "h264" and result.metadata["filename"] == "rec.mp4"
    info = probe(path)
    print(f"\nmp4 e2e: {info}; recorder {result.duration:.3f} s, {result.frames} frames, "
          f"durable at {sink_log.durables()}")
    assert info["format"].startswith("mov,mp4") and info["video"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == (480, 270) and info["audio"] == []
    assert abs(info["duration"] - result.duration) <= 0.05 and abs(result.duration - 6.0) <= 0.1
    assert info["frames"] == result.frames
    durables = sink_log.durables()
    assert len(durables) >= 4 and durables == sorted(set(durables))
    final = path.read_bytes()
    assert len(final) == result.total_bytes
    changed = [(i, n) for i, snap in enumerate(sink_log.snapshots) for n in range(len(snap)) if snap[n] != final[n]]
    assert changed == []  # every byte ever reported durable is final, part 0 included


def test_mp4_uploads_while_recording_and_the_server_copy_is_sha256_identical(pattern_display, server, tmp_path):
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    journal = UploadJournal(tmp_path / "journal.sqlite3").open()
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal,
                          server_url=server.api_url)
    seen: dict = {}

    class AtStop:
        """The upload's own sink, noting what the server had acknowledged when the file was closed."""

        def __init__(self, upload):
            self.upload = upload

        def durable(self, n):
            self.upload.durable(n)

        def failed(self, reason):
            self.upload.failed(reason)

        def finished(self, total, duration, metadata):
            seen["at_stop"] = self.upload.progress()
            seen["stopped"] = time.monotonic()
            self.upload.finished(total, duration, metadata)

    def sink_factory(path, metadata):
        seen["metadata"] = metadata
        seen["upload"] = engine.start_recording_upload(path, metadata)
        return AtStop(seen["upload"])

    try:
        path = tmp_path / "up.mp4"
        rec = pattern_display.recorder(path, format="mp4", region=REGION, fps=30, max_duration=8.0,
                                       sink_factory=sink_factory)
        rec.start()
        assert rec.wait(60) and rec.result.error is None
        url = seen["upload"].wait(60)
        linked = time.monotonic() - seen["stopped"]
        at_stop = seen["at_stop"]
        body = requests.get(url, timeout=30)
    finally:
        engine.stop()
        journal.close()
    print(f"\nmp4 upload: {rec.result.total_bytes} bytes; at stop the server had {at_stop.parts_uploaded} parts "
          f"({at_stop.bytes_sent} bytes); link {linked:.2f} s after the file was closed: {url}")
    assert seen["metadata"]["codec"] == "h264" and seen["metadata"]["filename"] == "up.mp4"
    assert at_stop.parts_uploaded >= 4 and at_stop.bytes_sent >= rec.result.total_bytes // 2  # sent while recording
    assert url.endswith(".mp4")
    assert body.status_code == 200 and body.headers["content-type"] == "video/mp4"
    assert hashlib.sha256(body.content).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    served = tmp_path / "served.mp4"
    served.write_bytes(body.content)
    assert probe(served)["video"] == "h264"


def cli_env(pattern_display, tmp_path, config: str):
    cfg = tmp_path / "config.toml"
    cfg.write_text(config)
    return pattern_display.env(SNAPLARK_CONFIG=str(cfg), SNAPLARK_DATA_DIR=str(tmp_path / "data"),
                               SNAPLARK_LOG_DIR=str(tmp_path / "log"),
                               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                               PULSE_SERVER="unix:/nonexistent/snaplark-tests-have-no-default-audio")


def test_snaplark_record_format_mp4_from_the_command_line_plays(pattern_display, tmp_path):
    out = tmp_path / "cli.mp4"
    r = subprocess.run([sys.executable, "-m", "tray", "record", "--format", "mp4", "--duration", "5", "--no-upload",
                        "--region", "320,120,480,270", "--output", str(out)],
                       env=cli_env(pattern_display, tmp_path, ""), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == str(out)
    info = probe(out)
    print(f"\nsnaplark record --format mp4: {info}")
    assert info["video"] == "h264" and info["pix_fmt"] == "yuv420p" and abs(info["duration"] - 5.0) <= 0.1
    assert info["frames"] >= 100  # ~30 fps of a moving picture, decoded to the end


def test_capture_format_mp4_setting_names_the_file_and_the_link_mp4(pattern_display, tmp_path):
    """No --format, no --output: ``capture.format = "mp4"`` picks the container, the file name in the save dir and
    the link (embedded server)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saves = tmp_path / "saves"
    env = cli_env(pattern_display, tmp_path, f'[server]\nembedded_port = {port}\n[capture]\nformat = "mp4"\n'
                                              f'[upload]\nsave_dir = "{saves}"\n')
    r = subprocess.run([sys.executable, "-m", "tray", "record", "--duration", "3", "--region", "320,120,480,270"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip().splitlines()[-1]
    files = list(saves.glob("recording-*"))
    assert len(files) == 1 and files[0].suffix == ".mp4" and probe(files[0])["video"] == "h264"
    # upload.copy = "page" (the default): the share page, whose video is the .mp4 (the server is gone with the
    # process, so only the link's form is checked here: /v/<id> without an extension)
    assert url.startswith(f"http://127.0.0.1:{port}/v/") and "." not in url.rsplit("/", 1)[1]
