"""MP4 recordings play in a real browser (issue 15): ``snaplark record --duration 6 --audio system --no-upload
--output recording.mp4`` (the format follows the file name) played by Debian's headless Chromium, measured by the same
page as the WebM recordings (test_browser_playback.py, whose fixtures and helpers this reuses): it starts, ends, has
the recording's duration and size, shows the display's colour, and sounds the 440 Hz tone. Then a seek to 75 % lands
there, with the file served by the reference server (Range requests; the page's own little HTTP server has none, and
without Range Chromium cannot seek in any file): the file is a fragmented MP4 whose moov says duration 0, so duration
and seeking must come from the fragments (and the ``mfra`` index at the end).
"""

from __future__ import annotations

import pytest

from tests.e2e.audio.test_browser_playback import (  # noqa: F401 - fixtures
    BACKGROUND,
    SECONDS,
    SIZE,
    blue_display,
    chromium,
    has_the_tone,
    play_in_chromium,
    record_from_cli,
    sound_while_playing,
    web_root,
)

pytestmark = pytest.mark.e2e

SEEK = """
const [src, fraction, done] = arguments;
const video = document.createElement("video");  // another origin: no pixels or sound are read, only times
video.muted = true;
video.preload = "auto";
video.addEventListener("error", () => done({error: video.error.code}), {once: true});
video.addEventListener("loadedmetadata", () => {
  const target = video.duration * fraction;
  video.addEventListener("seeked", () => done({target, duration: video.duration, currentTime: video.currentTime,
                                               readyState: video.readyState, error: null,
                                               seekableEnd: video.seekable.length ? video.seekable.end(0) : null}),
                         {once: true});
  video.currentTime = target;
}, {once: true});
video.src = src;
document.body.appendChild(video);
"""


def test_cli_mp4_recording_plays_with_sound_and_seeks_in_chromium(pulse, blue_display, web_root, chromium, server,
                                                                  tmp_path):
    import av

    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    root, base_url = web_root
    out = root / "recording-system.mp4"
    proc = record_from_cli(pulse, blue_display, tmp_path, out, "system")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    with av.open(str(out)) as c:
        assert (c.streams.video[0].codec_context.name, c.streams.audio[0].codec_context.name) == ("h264", "aac")

    report = play_in_chromium(chromium, base_url, out.name)
    summary = {k: v for k, v in report.items() if k != "samples"}
    print(f"\nChromium playing the mp4: {summary}")
    assert report["failure"] is None and report["error"] is None, summary
    assert not any(e["name"] == "error" for e in report["events"]), summary
    assert report["started"] and report["ended"] and report["maxReadyState"] == 4, summary
    assert abs(report["duration"] - SECONDS) <= 0.1, summary  # from the fragments: the moov says 0
    assert (report["videoWidth"], report["videoHeight"]) == SIZE, summary
    assert report["videoDecodedBytes"] > 0 and report["audioDecodedBytes"] > 0, summary
    assert all(abs(got - want) <= 16 for got, want in zip(report["pixels"][0][:3], BACKGROUND)), summary
    assert report["audioTracks"] == 1 and has_the_tone(sound_while_playing(report)), summary

    journal = UploadJournal(tmp_path / "journal.sqlite3").open()
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal,
                          server_url=server.api_url)
    try:
        url = engine.upload_file(out).wait(60)
    finally:
        engine.stop()
        journal.close()
    assert url.endswith(".mp4")
    chromium.set_script_timeout(20)
    seek = chromium.execute_async_script(SEEK, url, 0.75)
    print(f"seek to 75 %: {seek}")
    assert seek["error"] is None and abs(seek["currentTime"] - seek["target"]) <= 0.05, seek
    assert abs(seek["duration"] - SECONDS) <= 0.1 and seek["readyState"] >= 2, seek
    assert abs(seek["seekableEnd"] - seek["duration"]) <= 0.01, seek  # all of it seekable
