"""MP4 with sound (issue 15): real PulseAudio, real libpulse capture, H.264 + AAC in one fragmented MP4, decoded with
PyAV. The same checks as the WebM audio tests (test_audio_e2e.py): flashes and clicks of av_beacon.py land at the
same time (one clock for audio and video), audio and video last as long as each other; plus: no byte reported
durable changes at close, and the upload made while recording is the file byte for byte."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest
import requests

from tray_platform.base import Region

from tray.capture.audio import AudioSpec
from tray.capture.recorder import RecorderState

from tests.e2e.audio.conftest import start_beacon, tone
from tests.e2e.audio.test_audio_e2e import _sync_offsets, band_share, decode_audio, make_recorder
from tests.procutil import wait_until

pytestmark = pytest.mark.e2e
av = pytest.importorskip("av")


def codecs(path) -> tuple[str, list[str], float]:
    with av.open(str(path)) as c:
        return (c.streams.video[0].codec_context.name, [a.codec_context.name for a in c.streams.audio],
                c.duration / 1e6)


def test_mp4_audio_and_video_stay_in_sync_and_last_as_long(pulse, beacon_display, tmp_path):
    fps = 60
    beacon = start_beacon(beacon_display, pulse, period=1.0, size=(320, 240))
    path = tmp_path / "sync.mp4"
    try:
        rec = make_recorder(beacon_display, path, format="mp4", region=Region(0, 0, 320, 240), fps=fps,
                            bitrate=500_000, audio=AudioSpec("system"), audio_input=pulse.audio_input())
        rec.start()
        wait_until(lambda: rec.stats.ticks > 0, 10, what="first frame")
        time.sleep(12.0)
        result = rec.stop()
    finally:
        beacon.stop()
    assert result.error is None and result.audio is not None
    video, audio, duration = codecs(path)
    pairs, clicks, flashes, audio_len, video_len = _sync_offsets(path, fps)
    offsets_ms = [round(float(d) * 1000, 1) for _, d in pairs]
    samples, start = decode_audio(path)
    print(f"\nmp4 sync: {len(pairs)} flash/click pairs, audio - video offsets (ms) {offsets_ms}; audio starts at "
          f"{start:.4f} s; durations: audio {audio_len:.3f} s, video {video_len:.3f} s, container {duration:.3f} s, "
          f"recorder {result.duration:.3f} s")
    assert (video, audio) == ("h264", ["aac"])
    assert abs(start) < 0.001  # the AAC priming is hidden by the edit list, not played at the start
    assert len(pairs) >= 9 and len(clicks) == len(flashes), (clicks, flashes)
    assert all(abs(d) <= 0.030 for _, d in pairs), offsets_ms
    assert abs(audio_len - video_len) <= 0.050, (audio_len, video_len)
    assert abs(duration - result.duration) <= 0.050
    assert float(np.abs(samples).max()) <= 1.0


def test_mp4_with_audio_is_final_as_reported_and_uploads_while_recording(pulse, beacon_display, sink_log, server,
                                                                         tmp_path):
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    journal = UploadJournal(tmp_path / "journal.sqlite3").open()
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal,
                          server_url=server.api_url)
    beacon = start_beacon(beacon_display, pulse, period=0.7, size=(320, 240), noise=True)
    player = pulse.play("micwire", tone(1000, 14))
    path = tmp_path / "both.mp4"
    sink_log.path = path
    seen: dict = {}

    class Both:
        """The upload's sink and the snapshotting log, told the same things in the same order."""

        def durable(self, n):
            sink_log.durable(n)
            seen["upload"].durable(n)

        def failed(self, reason):
            sink_log.failed(reason)
            seen["upload"].failed(reason)

        def finished(self, total, duration, metadata):
            seen["at_stop"] = seen["upload"].progress()
            sink_log.finished(total, duration, metadata)
            seen["upload"].finished(total, duration, metadata)

    def sink_factory(p, metadata):
        seen["upload"] = engine.start_recording_upload(p, metadata)
        return Both()

    try:
        rec = make_recorder(beacon_display, path, format="mp4", region=Region(0, 0, 320, 240), fps=30,
                            bitrate=4_000_000, max_duration=8.0, sink_factory=sink_factory,
                            audio=AudioSpec("both"), audio_input=pulse.audio_input())
        rec.start()
        assert rec.wait(60) and rec.state is RecorderState.FINISHED
        url = seen["upload"].wait(60)
        body = requests.get(url, timeout=30)
    finally:
        beacon.stop()
        player.kill()
        player.wait(10)
        engine.stop()
        journal.close()
    final = path.read_bytes()
    durables = sink_log.durables()
    changed = sorted({n for snap in sink_log.snapshots for n in range(len(snap)) if snap[n] != final[n]})
    samples, _ = decode_audio(path)
    print(f"\nmp4 with audio: {len(final)} bytes, durable at {durables}; bytes rewritten at close: {changed[:10]}; "
          f"server had {seen['at_stop'].parts_uploaded} parts at stop; 1 kHz share {band_share(samples, 1000):.3f}")
    assert len(durables) >= 5 and durables == sorted(set(durables))
    assert changed == []
    assert codecs(path)[:2] == ("h264", ["aac"]) and band_share(samples[48_000:], 1000) > 0.1
    assert seen["at_stop"].parts_uploaded >= 4
    assert url.endswith(".mp4") and body.status_code == 200 and body.headers["content-type"] == "video/mp4"
    assert hashlib.sha256(body.content).hexdigest() == hashlib.sha256(final).hexdigest()
