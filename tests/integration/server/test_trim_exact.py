"""Frame-accurate trim (issue 15): ``POST /videos/<id>/trim`` re-encodes only the frames from the requested start to
the next keyframe and stream-copies the rest, for WebM/VP9 and MP4/H.264 (its own SPS/PPS ids merged into the avcC),
with audio cut at the same time. Real server, real PyAV videos whose every frame shows its own number (8 black/white
blocks = its index in binary) and carries a sine tone.

Checked on the served file, decoded with PyAV with FFmpeg's log captured: the first frame is the frame at the
requested start (its number), at timestamp 0; every frame to the end is there, in order, none repeated or missing,
each close to the source frame of that number (a wrong parameter set would decode to garbage); no decoder error
logged; the duration is the asked one to a frame; the first audio packet starts within one audio frame of 0."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import pytest
import requests

from tests.integration.server.test_share_pages import FPS, upload_video

SIZE = (320, 176)
SECONDS = 4.0
BITS = 8
RATE = 48000


def numbered_frame(n: int):
    import numpy as np

    w, h = SIZE
    img = np.full((h, w, 3), 60, np.uint8)
    img[:, :, 2] = (n * 7) % 256  # the picture changes, so P-frames carry something
    block = w // BITS
    for bit in range(BITS):
        if n >> bit & 1:
            img[16:80, bit * block + 4:(bit + 1) * block - 4] = 255
        else:
            img[16:80, bit * block + 4:(bit + 1) * block - 4] = 0
    return img


def read_number(rgb) -> int:
    w = SIZE[0]
    block = w // BITS
    n = 0
    for bit in range(BITS):
        if rgb[48, bit * block + block // 2].mean() > 128:
            n |= 1 << bit
    return n


def make_numbered_video(path: Path, *, b_frames: bool = False, skip: range = range(0)) -> bytes:
    """Numbered frames, a keyframe every second, a 440 Hz tone; ``b_frames``: H.264 with reordered frames (what
    another tool's MP4 often has, not the recorder's); ``skip``: frame numbers not written (the recorder skips
    frames while the screen stands still: the one before stays on screen)."""
    import av
    import numpy as np

    ext = path.suffix[1:]
    fragmented = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}  # as the recorder writes MP4
    vcodec, acodec, options = {"webm": ("libvpx-vp9", "libopus", {}), "mp4": ("libx264", "aac", fragmented)}[ext]
    with av.open(str(path), mode="w", format=ext, options=options) as out:
        stream = out.add_stream(vcodec, rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.gop_size = FPS  # a keyframe every second, as the recorder
        stream.codec_context.time_base = Fraction(1, FPS)
        stream.options = ({"preset": "superfast", "tune": "zerolatency", "sc_threshold": "0"} if vcodec == "libx264"
                          else {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"})
        if b_frames:
            stream.options = {"preset": "veryfast", "bf": "2", "sc_threshold": "0"}
        audio = out.add_stream(acodec, rate=RATE, layout="mono")
        samples = 0
        for n in range(int(SECONDS * FPS)):
            frame = av.VideoFrame.from_ndarray(numbered_frame(n), format="rgb24")
            frame.pts = n
            for packet in stream.encode(frame) if n not in skip else ():
                out.mux(packet)
            while samples < (n + 1) * RATE // FPS:
                chunk = 960
                t = (np.arange(samples, samples + chunk) / RATE).astype(np.float32)
                a = av.AudioFrame.from_ndarray((0.3 * np.sin(2 * np.pi * 440 * t))[None, :].astype(np.float32),
                                               format="fltp", layout="mono")
                a.sample_rate, a.pts = RATE, samples
                for packet in audio.encode(a):
                    out.mux(packet)
                samples += chunk
        for s in (stream, audio):
            for packet in s.encode():
                out.mux(packet)
    return path.read_bytes()


def decode_strictly(data: bytes):
    """(video frames as (pts seconds, rgb), first audio packet's start, FFmpeg error lines) of ``data``."""
    import av
    import av.logging

    previous = av.logging.get_level()
    av.logging.set_level(av.logging.WARNING)  # PyAV passes FFmpeg's log on only when a level is set
    try:
        with av.logging.Capture() as logs:
            with av.open(io.BytesIO(data)) as container:
                video = container.streams.video[0]
                frames = [(float(f.pts * video.time_base), f.to_ndarray(format="rgb24"))
                          for f in container.decode(video)]
            with av.open(io.BytesIO(data)) as container:
                audio = container.streams.audio[0]
                first_audio = min(float(p.pts * p.time_base) for p in container.demux(audio) if p.pts is not None)
    finally:
        av.logging.set_level(previous)
    errors = [line for line in logs if line[0] <= av.logging.ERROR]
    return frames, first_audio, errors


@pytest.fixture(scope="module")
def numbered(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("numbered")
    return {**{ext: make_numbered_video(d / f"n.{ext}") for ext in ("webm", "mp4")},
            "mp4-bframes": make_numbered_video(d / "b.mp4", b_frames=True)}


@pytest.mark.parametrize("ext", ["webm", "mp4"])
@pytest.mark.parametrize("start,end", [(1.4, 3.3), (2.0, 3.0), (0.7, 1.6)])
def test_the_trimmed_video_starts_at_the_requested_frame(local_srv, numbered, ext, start, end):
    t = check_trim(local_srv, numbered[ext], ext, start, end)
    assert t["method"] in ("copy", "edge"), t


def test_reordered_frames_are_encoded_again_whole_range_and_said_so(local_srv, numbered):
    t = check_trim(local_srv, numbered["mp4-bframes"], "mp4", 1.4, 3.3)
    assert t["method"] == "whole" and "B-frames" in t["reason"], t


def test_a_start_while_the_screen_stood_still_shows_the_frame_on_screen_from_0(local_srv, tmp_path):
    """Variable frame rate, as the recorder writes a still screen: no frame between 1.2 and 1.6 s, so at 1.4 s the
    frame of 1.167 s (number 35) is on screen. The trimmed video shows it from 0 (not the next change, 0.2 s
    early) and the frame of 1.6 s at 0.2 s."""
    data = make_numbered_video(tmp_path / "still.webm", skip=range(36, 48))
    answer = upload_video(local_srv, data, "webm")
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    r = requests.post(f"{local_srv.api_url}/videos/{vid}/trim", json={"start": 1.4, "end": 2.5},
                      headers=local_srv.headers(), timeout=120)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["method"] == "edge" and t["start"] == pytest.approx(1.4, abs=1e-3), t
    frames, _audio, errors = decode_strictly(requests.get(answer["url"], timeout=30).content)
    assert errors == []
    numbers = [read_number(rgb) for _t, rgb in frames]
    assert numbers[:2] == [35, 48] and numbers == [35] + list(range(48, 75)), numbers
    assert frames[0][0] == pytest.approx(0.0, abs=1e-3) and frames[1][0] == pytest.approx(0.2, abs=0.5 / FPS)
    assert t["duration"] == pytest.approx(1.1, abs=1.5 / FPS)


def check_trim(local_srv, data: bytes, ext: str, start: float, end: float) -> dict:
    """Trim ``data`` to [start, end) on the server and check the served file frame by frame; the trim's answer."""
    import av
    import numpy as np

    source, _audio, source_errors = decode_strictly(data)
    assert not source_errors and [read_number(rgb) for _t, rgb in source] == list(range(len(source)))
    with av.open(io.BytesIO(data)) as container:
        keyframes = sorted(float(p.pts * p.time_base) for p in container.demux(video=0) if p.is_keyframe)
    # the source's own times (an MP4's AAC priming moves its frames by 21 ms): the frame shown at `start`
    first = min(range(len(source)), key=lambda n: abs(source[n][0] - start))
    kept = [n for n in range(first, len(source)) if source[n][0] < end - 1e-6]
    next_key = min((k for k in keyframes if k > source[first][0] + 1e-6), default=None)
    answer = upload_video(local_srv, data, ext)
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    r = requests.post(f"{local_srv.api_url}/videos/{vid}/trim", json={"start": start, "end": end},
                      headers=local_srv.headers(), timeout=120)
    assert r.status_code == 200, r.text
    t = r.json()
    if any(abs(k - source[first][0]) < 1e-6 for k in keyframes):
        assert (t["method"], t["reencodedUntil"]) == ("copy", None), t
    elif t["method"] == "edge":  # only up to the next keyframe (one a second) is encoded again
        assert t["reencodedUntil"] == pytest.approx(next_key if next_key and next_key < end else
                                                    source[kept[-1]][0] + 1 / FPS, abs=1e-3), t
    else:
        assert t["reencodedUntil"] == pytest.approx(source[kept[-1]][0] + 1 / FPS, abs=1.5 / FPS), t
    assert t["start"] == pytest.approx(start, abs=0.5 / FPS) and t["keyframeCut"] is False

    frames, first_audio, errors = decode_strictly(requests.get(answer["url"], timeout=30).content)
    assert errors == [], errors
    numbers = [read_number(rgb) for _t, rgb in frames]
    assert numbers == kept, numbers  # starts at the requested frame, ends at the requested one, no gap
    assert frames[0][0] == pytest.approx(0.0, abs=1e-3)  # at timestamp 0
    for (pts, rgb), n in zip(frames, numbers):
        assert pts == pytest.approx(source[n][0] - source[first][0], abs=0.5 / FPS)
        diff = np.abs(rgb.astype(int) - source[n][1].astype(int)).mean()
        assert diff < 6, (n, diff)  # the picture of that frame, not garbage from a wrong parameter set
    assert t["duration"] == pytest.approx(end - start, abs=1.5 / FPS)
    assert abs(first_audio) <= 0.025  # audio cut at the same start (one Opus/AAC frame at most)
    return t


def test_an_mp4_trimmed_twice_is_still_spliced_frame_accurately(local_srv, numbered):
    """The first trim's avcC holds two parameter sets (ids 0 and 1); the second edge takes the next free id (2), so
    it is spliced again rather than re-encoded whole, and every frame still decodes to its own picture."""
    import av

    answer = upload_video(local_srv, numbered["mp4"], "mp4")
    vid = answer["pageUrl"].rsplit("/", 1)[1]
    url = f"{local_srv.api_url}/videos/{vid}/trim"
    first = requests.post(url, json={"start": 1.4, "end": 3.9}, headers=local_srv.headers(), timeout=120).json()
    once = requests.get(answer["url"], timeout=30).content
    frames_once, _a, _e = decode_strictly(once)
    second = requests.post(url, json={"start": 0.3, "end": 2.0}, headers=local_srv.headers(), timeout=120).json()
    assert (first["method"], second["method"]) == ("edge", "edge"), (first, second)
    data = requests.get(answer["url"], timeout=30).content
    with av.open(io.BytesIO(data)) as container:
        extradata = container.streams.video[0].codec_context.extradata
    from snaplark_server.trim_cut import _parse_avcc, _ps_id

    _head, sps, pps, _rest = _parse_avcc(extradata)
    assert sorted(_ps_id(u, True) for u in sps) == [0, 1, 2] and sorted(_ps_id(u, False) for u in pps) == [0, 1, 2]
    frames, _audio, errors = decode_strictly(data)
    assert errors == []
    start = min(range(len(frames_once)), key=lambda n: abs(frames_once[n][0] - 0.3))
    expected = [read_number(rgb) for t, rgb in frames_once[start:] if t < 2.0 - 1e-6]
    assert [read_number(rgb) for _t, rgb in frames] == expected and expected[0] == read_number(frames_once[start][1])
