"""Share pages in a real browser (issue 15, acceptance 1): Debian's headless ``chromium`` through Debian's
``chromedriver`` (Selenium; no driver download) against the real reference server on an ephemeral port.

The videos are made the way a user makes them: ``snaplark record --duration 8 --format mp4|webm --audio system
--no-upload`` on a private Xvfb showing the moving test pattern (so frames keep coming and the encoder puts a
keyframe every 5 s) while a private PulseAudio plays a 440 Hz tone into the speakers (tests/e2e/audio/conftest.py),
then uploaded by the real upload engine with ``upload.copy = "page"``. For each: the page loads with no console
errors (the browser log, ``goog:loggingPrefs``), the video plays (``currentTime`` advances, ``videoWidth`` > 0, no
``MediaError``) with its sound (the page's own ``<video>`` heard through ``captureStream()``: the tone, before and
after the trim), seeking to 75 % lands and decodes there, the poster is an image the browser decodes; the
screenshot page shows its image at its size; after a trim across a keyframe (3.5-7.5 s, keyframes 5 s apart: the
frames up to 5 s encoded again, the rest copied) the page's video lasts the requested 4 s, shows the frame at 3.5 s
first (the recording's own frame, within one frame, by picture) and plays to the end through the splice with no
MediaError; after a delete page and file answer 410.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.browser import headless_chromium
from tests.e2e.audio.conftest import pulse, tone  # noqa: F401 -- pulse: the session's private PulseAudio fixture
from tests.e2e.capture.conftest import start_pattern
from tests.procutil import need_tool, start_xvfb, stop_process

pytestmark = pytest.mark.e2e

SIZE = (640, 360)
SECONDS = 8
TONE_HZ = 440


@pytest.fixture(scope="module")
def recordings(tmp_path_factory, pulse) -> dict[str, Path]:  # noqa: F811 -- the imported fixture
    """One recording per container, made by the CLI on a private display with the moving pattern and the system
    sound (a 440 Hz tone playing)."""
    import av

    need_tool("Xvfb")
    tmp = tmp_path_factory.mktemp("share-rec")
    xvfb, display = start_xvfb(*SIZE)
    pattern = None
    try:
        pattern = start_pattern(display, *SIZE)
        (tmp / "cfg.toml").write_text("")
        env = pulse.env(DISPLAY=display, SNAPLARK_CONFIG=str(tmp / "cfg.toml"), SNAPLARK_DATA_DIR=str(tmp / "data"),
                        SNAPLARK_LOG_DIR=str(tmp / "log"))
        out = {}
        for fmt in ("webm", "mp4"):
            path = tmp / f"recording.{fmt}"
            player = pulse.play("speakers", tone(TONE_HZ, SECONDS + 20))
            try:
                proc = subprocess.run([sys.executable, "-m", "tray", "record", "--duration", str(SECONDS), "--format",
                                       fmt, "--audio", "system", "--countdown", "0", "--no-upload", "--output",
                                       str(path)], env=env, capture_output=True, text=True, timeout=120)
            finally:
                player.kill()
                player.wait(10)
            assert proc.returncode == 0, proc.stderr
            with av.open(str(path)) as c:  # the file has its sound track (what the page must play)
                assert len(c.streams.audio) == 1, (fmt, c.streams)
            out[fmt] = path
        return out
    finally:
        if pattern is not None:
            stop_process(pattern)
        stop_process(xvfb)


@pytest.fixture
def server(tmp_path):
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread
    from snaplark_server.users import create_user

    thread = ServerThread(ServerConfig(data_dir=tmp_path / "server", port=0, cleanup_interval=3600.0)).start()
    token = create_user(thread.app.state.db, "alice")
    try:
        yield thread, token
    finally:
        thread.stop()


def upload(server, path: Path, tmp_path: Path) -> tuple[str, str]:
    """(link the engine completed with, the file's URL) -- the real engine, upload.copy = "page"."""
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine
    from tray.upload.journal import UploadJournal

    thread, token = server
    with UploadJournal(tmp_path / f"journal-{path.stem}-{path.suffix[1:]}.sqlite3") as journal:
        engine = UploadEngine(lambda: ApiClient(thread.api_url, lambda: token), journal, server_url=thread.api_url,
                              copy="page")
        try:
            up = engine.upload_screenshot(path) if path.suffix == ".png" else engine.upload_file(path, {})
            link = up.wait(60)
        finally:
            assert engine.stop(10)
        return link, journal.history()[0].file_url


@pytest.fixture
def chromium():
    """Headless Chromium (tests/browser.py)."""
    with headless_chromium(console_log=True) as driver:
        yield driver


def wait_for(driver, script: str, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:g} s (last {value!r}); video state: {video_state(driver)}")


def video_state(driver) -> dict:
    return driver.execute_script("""const v = document.querySelector('video'); return v && {
        readyState: v.readyState, currentTime: v.currentTime, duration: v.duration, paused: v.paused,
        videoWidth: v.videoWidth, videoHeight: v.videoHeight, error: v.error && v.error.code,
        src: v.currentSrc, poster: v.poster,
        seekable: v.seekable.length ? [v.seekable.start(0), v.seekable.end(v.seekable.length - 1)] : []}""")


def keyframe_times(path: Path) -> list[float]:
    import av

    with av.open(str(path)) as c:
        video = c.streams.video[0]
        return sorted(float(p.pts * p.time_base) for p in c.demux(video) if p.is_keyframe and p.pts is not None)


THUMB = (64, 36)


def source_frames(path: Path) -> tuple[list[float], list[list[int]]]:
    """Every frame's time and a THUMB-sized grey thumbnail of it, decoded with PyAV."""
    import av

    times, thumbs = [], []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            times.append(float(frame.pts * frame.time_base))
            thumbs.append(list(frame.to_image().convert("L").resize(THUMB).getdata()))
    return times, thumbs


def frame_thumbnail(driver, at: float) -> list[int]:
    """The frame Chromium shows at ``at`` seconds (paused, seeked), drawn into a THUMB-sized canvas, as grey."""
    return driver.execute_async_script("""const [at, w, h, done] = arguments; const v = document.querySelector('video');
        v.pause(); const grab = () => { const c = document.createElement('canvas'); c.width = w; c.height = h;
          const g = c.getContext('2d'); g.drawImage(v, 0, 0, w, h); const d = g.getImageData(0, 0, w, h).data;
          const out = []; for (let i = 0; i < d.length; i += 4) out.push(Math.round(0.299 * d[i] + 0.587 * d[i + 1]
            + 0.114 * d[i + 2])); done(out); };
        v.addEventListener('seeked', () => requestAnimationFrame(grab), {once: true}); v.currentTime = at;""",
                                       at, *THUMB)


def mean_diff(a: list[int], b: list[int]) -> float:
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def play_to_the_end(driver) -> dict:
    driver.execute_script("const v = document.querySelector('video'); window.__ended = false; v.muted = true;"
                          "v.addEventListener('ended', () => { window.__ended = true; }, {once: true});"
                          "v.currentTime = 0; v.playbackRate = 2; v.play();")
    wait_for(driver, "return window.__ended || !!document.querySelector('video').error", "playback to the end")
    return video_state(driver)


def sound_on_page(driver, start: float, seconds: float = 2.0) -> dict:
    """Play the page's ``<video>`` from ``start`` for ``seconds`` and listen to it: its audio tracks, the decoded
    audio bytes and, every 100 ms, the loudness and strongest frequency of what it plays (an AnalyserNode on
    ``captureStream()``: in headless Chromium a MediaElementSource hears only zeros, tests/e2e/audio/player.html)."""
    return driver.execute_async_script("""const [start, seconds, done] = arguments;
        const v = document.querySelector('video'); v.pause(); v.muted = false; v.playbackRate = 1;
        v.addEventListener('seeked', async () => {
          const ctx = new AudioContext(); await ctx.resume(); const a = ctx.createAnalyser(); a.fftSize = 8192;
          await v.play(); const stream = v.captureStream(); const tracks = stream.getAudioTracks().length;
          if (tracks) ctx.createMediaStreamSource(stream).connect(a);
          const wave = new Float32Array(a.fftSize), spectrum = new Float32Array(a.frequencyBinCount), samples = [];
          const timer = setInterval(() => {
            a.getFloatTimeDomainData(wave); let sum = 0; for (const x of wave) sum += x * x;
            a.getFloatFrequencyData(spectrum); let peak = 1;
            for (let i = 2; i < spectrum.length; i++) if (spectrum[i] > spectrum[peak]) peak = i;
            samples.push({t: v.currentTime, rms: Math.sqrt(sum / wave.length), peakHz: peak * ctx.sampleRate / a.fftSize});
          }, 100);
          setTimeout(() => { clearInterval(timer); v.pause(); ctx.close();
            done({tracks, audioBytes: v.webkitAudioDecodedByteCount, error: v.error && v.error.code, samples}); },
            seconds * 1000);
        }, {once: true});
        v.currentTime = start;""", start, seconds)


def assert_hears_the_tone(heard: dict) -> None:
    """The tone at >= 80 % of the samples after the first 300 ms (the analyser's window filling up)."""
    samples = heard["samples"][3:]
    good = [s for s in samples if s["rms"] > 0.05 and abs(s["peakHz"] - TONE_HZ) <= 15]
    summary = {k: v for k, v in heard.items() if k != "samples"}
    assert heard["tracks"] == 1 and heard["audioBytes"] > 0 and heard["error"] is None, summary
    assert len(samples) >= 10 and len(good) >= 0.8 * len(samples), (summary, samples)


def console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def decoded_image_width(driver, url: str) -> int:
    """naturalWidth of ``url`` loaded into a fresh <img> of the page (0 when the browser could not decode it)."""
    return driver.execute_async_script("""const done = arguments[arguments.length - 1];
        const img = new Image(); img.onload = () => done(img.naturalWidth); img.onerror = () => done(0);
        img.src = arguments[0];""", url)


def play_and_seek(driver) -> dict:
    driver.execute_script("const v = document.querySelector('video'); v.muted = true; v.play();")
    wait_for(driver, "const v = document.querySelector('video'); return v.currentTime > 0.5 && v.videoWidth > 0",
             "playback to advance")
    state = video_state(driver)
    assert state["error"] is None and (state["videoWidth"], state["videoHeight"]) == SIZE, state
    duration = wait_for(driver, "const v = document.querySelector('video'); "
                                "return isFinite(v.duration) && v.duration > 0 && v.duration", "a finite duration")
    target = 0.75 * duration
    driver.execute_script("const v = document.querySelector('video'); v.pause(); window.__seeked = false;"
                          "v.addEventListener('seeked', () => { window.__seeked = true; }, {once: true});"
                          "v.currentTime = arguments[0];", target)
    wait_for(driver, "return window.__seeked && document.querySelector('video').readyState >= 2",
             "the seek to 75 %")
    state = video_state(driver)
    assert abs(state["currentTime"] - target) < 0.5 and state["error"] is None, state
    assert state["seekable"] and state["seekable"][1] >= target, state
    return state


@pytest.mark.parametrize("fmt", ["webm", "mp4"])
def test_video_page_plays_seeks_shows_poster_then_trim_and_delete(recordings, server, chromium, tmp_path, fmt):
    thread, token = server
    jobs = thread.app.state.media_jobs
    release = threading.Event()
    jobs.before_job = lambda object_id, kind: release.wait(60)  # hold the measurement: the page before it
    try:
        link, file_url = upload(server, recordings[fmt], tmp_path)
        assert link.startswith(f"{thread.url}/v/") and file_url == f"{link}.{fmt}"
        chromium.get(link)
        wait_for(chromium, "return document.querySelector('video').readyState >= 1", "the unmeasured video")
        assert video_state(chromium)["poster"] == "" and console_errors(chromium) == []
    finally:
        release.set()
    assert jobs.wait_idle(60)  # the background job has made the poster and measured the duration
    chromium.get(link)
    assert chromium.title.startswith("Recording ")
    wait_for(chromium, "return document.querySelector('video').readyState >= 1", "the video's metadata")
    state = play_and_seek(chromium)
    assert state["src"] == file_url and abs(state["duration"] - SECONDS) < 0.6, state
    assert state["poster"] == f"{link}.jpg"
    assert decoded_image_width(chromium, state["poster"]) == SIZE[0]  # the poster decodes, at the video's width
    assert_hears_the_tone(sound_on_page(chromium, 2.0))  # the page plays the recording's sound
    assert console_errors(chromium) == []

    # trim 3.5-7.5 s: the recorder's keyframes are 5 s apart, so the frames from 3.5 s to the keyframe at 5 s are
    # encoded again and the rest is copied; Chromium must play across that splice
    from tray.api.client import ApiClient

    client = ApiClient(thread.api_url, lambda: token)
    try:
        vid = link.rsplit("/", 1)[1]
        keyframes = keyframe_times(recordings[fmt])
        times, thumbs = source_frames(recordings[fmt])
        first = min(range(len(times)), key=lambda n: abs(times[n] - 3.5))
        next_key = min(k for k in keyframes if k > times[first])
        assert next_key < 7.5, keyframes  # else nothing would be copied and no splice tested
        cut = client.trim_video(vid, 3.5, 7.5)
        assert cut["start"] == pytest.approx(times[first], abs=0.002), (cut, times[first - 1:first + 2])
        assert (cut["method"], cut["reencodedUntil"]) == ("edge", pytest.approx(next_key, abs=0.002)), cut
        chromium.get(link)
        wait_for(chromium, "return document.querySelector('video').readyState >= 1", "the trimmed video's metadata")
        shown = frame_thumbnail(chromium, 0.0)  # what Chromium shows at 0: the frame at 3.5 s, within one frame
        # The bar's path repeats every ~3 s (faster or slower with the machine's load), so another frame far away
        # may look as alike as the right one: the right one (+-1) must be as close as the closest of all, and close.
        diffs = [mean_diff(shown, t) for t in thumbs]
        nearest = min(range(len(times)), key=diffs.__getitem__)
        near_first = min(diffs[max(first - 1, 0):first + 2])
        assert near_first <= diffs[nearest] + 0.5 and near_first < 4, (
            nearest, first, times[nearest], times[first], diffs[nearest], near_first)
        trimmed = play_and_seek(chromium)
        assert abs(trimmed["duration"] - (cut["end"] - cut["start"])) <= 0.1, (cut, trimmed)  # what it says it cut
        assert abs(trimmed["duration"] - (7.5 - 3.5)) <= 0.1, (cut, trimmed)  # the asked span, to a frame or two
        ended = play_to_the_end(chromium)  # through the re-encoded frames, the splice and the copied ones
        assert ended["error"] is None and ended["currentTime"] >= trimmed["duration"] - 0.1, ended
        assert_hears_the_tone(sound_on_page(chromium, 1.0))  # the trimmed video keeps its sound
        assert decoded_image_width(chromium, trimmed["poster"]) == SIZE[0]
        assert console_errors(chromium) == []

        client.delete_object(vid)
    finally:
        client.close()
    for url in (link, file_url, f"{link}.jpg"):
        assert requests.get(url, timeout=10).status_code == 410, url
    chromium.get(link)
    assert "deleted" in chromium.find_element("tag name", "main").text
    assert chromium.execute_script("return document.querySelector('video')") is None


def test_screenshot_page_shows_the_image(server, chromium, tmp_path):
    from PIL import Image

    path = tmp_path / "shot.png"
    Image.new("RGB", (800, 500), (40, 120, 200)).save(path)
    link, file_url = upload(server, path, tmp_path)
    chromium.get(link)
    width = wait_for(chromium, "const i = document.querySelector('label.shot img');"
                               "return i.complete && i.naturalWidth", "the image to load")
    assert width == 800 and chromium.execute_script("return document.querySelector('img').naturalHeight") == 500
    assert chromium.execute_script("return document.querySelector('img').currentSrc") == file_url
    assert console_errors(chromium) == []
    png = requests.get(file_url, timeout=10).content
    assert Image.open(io.BytesIO(png)).size == (800, 500)


def test_page_plays_media_from_the_user_content_origin(recordings, chromium, tmp_path):
    """``user_content_base_url``: the page at http://127.0.0.1:PORT plays the file, shows the poster and offers the
    download from http://localhost:PORT -- another origin, allowed by the page's CSP, with no console error."""
    from snaplark_server.activation import bind_listener
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread
    from snaplark_server.users import create_user

    sock = bind_listener("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = ServerConfig(data_dir=tmp_path / "server", port=port, cleanup_interval=3600.0,
                          site_url=f"http://127.0.0.1:{port}", user_content_base_url=f"http://localhost:{port}")
    thread = ServerThread(config, sock=sock).start()
    try:
        token = create_user(thread.app.state.db, "alice")
        link, file_url = upload((thread, token), recordings["webm"], tmp_path)
        assert thread.app.state.media_jobs.wait_idle(60)
        assert link.startswith(f"http://127.0.0.1:{port}/v/") and file_url.startswith(f"http://localhost:{port}/v/")
        chromium.get(link)
        wait_for(chromium, "return document.querySelector('video').readyState >= 1", "the video's metadata")
        state = play_and_seek(chromium)
        assert state["src"] == file_url and state["poster"] == f"{file_url.rsplit('.', 1)[0]}.jpg", state
        assert decoded_image_width(chromium, state["poster"]) == SIZE[0]
        assert console_errors(chromium) == []
    finally:
        thread.stop()
