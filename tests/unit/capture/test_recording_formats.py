"""Recording formats (issue 15): the MP4 writer (libx264 + AAC, fragmented) next to the WebM one, chosen by
``capture.format`` / ``Recorder(format=)`` / ``snaplark record --format``. Real encoders, muxer and files; frames and
audio are synthetic, the clock is injected (no display)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tray_platform.base import Region

from tray.capture.encoder import (MP4_MUXER_OPTIONS, Mp4H264Writer, WebmVp9Writer, format_of_path, make_writer,
                                  recording_format)
from tray.capture.errors import InvalidCaptureTarget
from tray.capture.recorder import Recorder
from tray.capture.sink import NullSink

from tests.unit.capture.test_capture_unit import FakeTime, SinkLog, SmallScreen, SyntheticCapture

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")

W, H, FPS = 96, 64, 30
RATE = 48_000


def write_mp4(path: Path, seconds: float, *, audio: bool, flash_at_ms: int = 1000, click_at: int = RATE,
              writer_cls=Mp4H264Writer):
    """Encode ``seconds`` of frames at FPS (a different picture each frame, white at ``flash_at_ms``) and, with
    ``audio``, 20 ms stereo frames (silence, a 5 ms click from sample ``click_at``), the way the encoder thread
    does: video and audio interleaved by time, the clock following the pts. Returns (writer, snapshots) where a
    snapshot is the file's bytes [0, n) at each ``on_durable(n)``."""
    now = [0.0]
    snapshots: list[bytes] = []

    def on_durable(n: int) -> None:
        with open(path, "rb") as f:
            snapshots.append(f.read(n))

    w = writer_cls(path, W, H, fps=FPS, bitrate=400_000, on_durable=on_durable, clock=lambda: now[0],
                   audio_bitrate=96_000 if audio else None)
    w.open()
    rng = np.random.default_rng(7)
    base = rng.integers(0, 255, (H, W, 4), dtype=np.uint8)
    apts = 0
    frames = int(seconds * FPS)
    for i in range(frames):
        pts = round(i * 1000 / FPS)
        img = np.full((H, W, 4), 255, np.uint8) if pts == flash_at_ms else np.roll(base, i, axis=1)
        now[0] = pts / 1000
        w.encode(W, H, img.tobytes(), pts)
        while audio and apts < (i + 1) * RATE // FPS:
            samples = np.zeros((960, 2), np.float32)
            idx = np.arange(apts, apts + 960)
            samples[(idx >= click_at) & (idx < click_at + 240)] = 0.8
            w.encode_audio(samples, apts)
            apts += 960
    total = w.close()
    assert total == path.stat().st_size
    return w, snapshots


def changed_offsets(snapshots: list[bytes], final: bytes) -> list[int]:
    changed: set[int] = set()
    for snap in snapshots:
        a = np.frombuffer(snap, np.uint8)
        b = np.frombuffer(final[:len(snap)], np.uint8)
        changed.update(np.flatnonzero(a != b).tolist())
    return sorted(changed)


def first_flash_and_click(path: Path) -> tuple[float, float | None]:
    with av.open(str(path)) as c:
        flash = next(float(f.pts * f.time_base) for f in c.decode(video=0)
                     if f.to_ndarray(format="gray").mean() > 200)
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return flash, None
        chunks, start = [], None
        for f in c.decode(audio=0):
            start = float(f.pts * f.time_base) if start is None else start
            chunks.append(f.to_ndarray())
        mono = np.concatenate(chunks, axis=1)[0]
        return flash, start + int(np.flatnonzero(np.abs(mono) > 0.2)[0]) / RATE


@pytest.mark.parametrize("audio", [False, True], ids=["video", "video+audio"])
def test_mp4_fragments_about_once_a_second_and_nothing_is_rewritten_at_close(tmp_path, audio):
    path = tmp_path / "w.mp4"
    w, snapshots = write_mp4(path, 6.0, audio=audio)
    final = path.read_bytes()
    sizes = [len(s) for s in snapshots]
    print(f"\nmp4 {'with' if audio else 'without'} audio: {len(final)} bytes, durable at {sizes}")
    # a fragment about every second (frag_duration), not one per keyframe (every 5 s)
    assert len(snapshots) >= 5 and sizes == sorted(set(sizes))
    assert changed_offsets(snapshots, final) == []  # not one reported byte changes at close, part 0 included
    assert final[4:8] == b"ftyp" and b"moof" in final[:sizes[0]] and final[-16:-8] == b"\x00\x00\x00\x10mfro"
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.name, v.codec_context.pix_fmt, v.width, v.height) == ("h264", "yuv420p", W, H)
        assert [s.codec_context.name for s in c.streams.audio] == (["aac"] if audio else [])
        assert abs(c.duration / 1e6 - w.end_ms / 1000) <= 0.05
        pts = [round(float(f.pts * f.time_base) * 1000) for f in c.decode(v)]
    assert pts == [round(i * 1000 / FPS) for i in range(int(6.0 * FPS))]  # VFR ms timestamps kept, frame 0 at 0


def test_mp4_audio_and_video_share_one_time_line_from_zero(tmp_path):
    """A click encoded at sample 48000 and a white frame at 1000 ms decode at 1.000 s both: the AAC encoder's 1024
    priming samples are hidden by an edit list (delay_moov), not shifted onto both tracks (+21.3 ms)."""
    path = tmp_path / "sync.mp4"
    write_mp4(path, 3.0, audio=True)
    flash, click = first_flash_and_click(path)
    print(f"\nflash at {flash:.4f} s, click at {click:.4f} s")
    assert abs(flash - 1.0) < 0.001 and abs(click - 1.0) < 0.001
    assert "delay_moov" in MP4_MUXER_OPTIONS["movflags"]


def test_make_writer_picks_the_writer_by_format_and_refuses_others(tmp_path):
    common = dict(fps=10, bitrate=100_000, on_durable=print, clock=time.monotonic)
    assert type(make_writer("webm", tmp_path / "a.webm", 64, 48, **common)) is WebmVp9Writer
    assert type(make_writer("mp4", tmp_path / "a.mp4", 64, 48, **common)) is Mp4H264Writer
    with pytest.raises(ValueError, match="webm, mp4.*'avi'"):
        make_writer("avi", tmp_path / "a.avi", 64, 48, **common)
    with pytest.raises(ValueError, match="even"):
        make_writer("mp4", tmp_path / "odd.mp4", 63, 48, **common)
    assert (recording_format("mp4").extension, recording_format("mp4").codec) == (".mp4", "h264")
    assert (format_of_path("x/REC.MP4"), format_of_path("a.webm"), format_of_path("a.mkv"), format_of_path("a.bin")) \
        == ("mp4", "webm", "webm", None)


def make_recorder(path: Path, **kw) -> tuple[Recorder, FakeTime, SinkLog]:
    ft = FakeTime()
    sink = SinkLog()
    rec = Recorder(path, region=Region(0, 0, 64, 48), sink=sink, display_info=SmallScreen(),
                   capture_factory=lambda: SyntheticCapture(lambda n: n * 9), clock=ft.clock, sleeper=ft.sleep,
                   wall_clock=lambda: 1_700_000_000.5, **kw)
    ft.recorder = rec
    return rec, ft, sink


def test_recorder_in_mp4_writes_h264_and_says_so_in_the_init_metadata(tmp_path):
    rec, _ft, sink = make_recorder(tmp_path / "r.mp4", format="mp4", fps=10, max_duration=3.0)
    assert rec.prepare()["codec"] == "h264" and rec.metadata["filename"] == "r.mp4"
    rec.start()
    assert rec.wait(30)
    result = rec.result
    assert result.error is None and sink.events[-1][0] == "finished" and sink.events[-1][3]["codec"] == "h264"
    durables = [e[1] for e in sink.events if e[0] == "durable"]
    assert len(durables) >= 2 and durables[-1] <= result.total_bytes == (tmp_path / "r.mp4").stat().st_size
    with av.open(str(tmp_path / "r.mp4")) as c:
        assert c.format.name.startswith("mov,mp4") and c.streams.video[0].codec_context.name == "h264"
        assert abs(c.duration / 1e6 - result.duration) <= 0.05 and abs(result.duration - 3.0) <= 0.1
    webm, _, _ = make_recorder(tmp_path / "r.webm")
    assert webm.prepare()["codec"] == "vp9"  # the default format is unchanged


@pytest.mark.parametrize("path, fmt, message", [
    ("r.webm", "mp4", "r.webm names a webm file but the format is mp4; use a .mp4 file name"),
    ("r.mp4", "webm", "r.mp4 names a mp4 file but the format is webm; use a .webm file name"),
    ("r.mp4", "avi", "recording format must be one of webm, mp4, got 'avi'"),
])
def test_recorder_refuses_a_format_its_file_name_contradicts(tmp_path, path, fmt, message):
    with pytest.raises(InvalidCaptureTarget) as err:
        Recorder(tmp_path / path, format=fmt, sink=NullSink())
    assert str(err.value) == message


def test_capture_format_setting_accepts_mp4_and_gif_and_names_the_choices_when_wrong(tmp_path):
    from tray.config import ConfigError, load_config

    p = tmp_path / "config.toml"
    for fmt in ("mp4", "gif"):
        p.write_text(f'schema_version = 2\n[capture]\nformat = "{fmt}"\n')
        assert load_config(p).capture.format == fmt
    p.write_text('schema_version = 2\n[capture]\nformat = "mov"\n')
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(err.value) == f"invalid setting in {p}: capture.format = 'mov': must be one of 'webm', 'mp4', 'gif'"


@pytest.mark.parametrize("argv, message", [
    (["--format", "mp4", "--output", "x.webm"], "x.webm names a webm file but the format is mp4"),
    (["--format", "webm", "--output", "x.mp4"], "x.mp4 names a mp4 file but the format is webm"),
])
def test_record_command_refuses_a_format_its_output_contradicts(argv, message, tmp_path, monkeypatch, capsys):
    from tray.commands import record

    monkeypatch.delenv("DISPLAY", raising=False)
    argv = [a if not a.startswith("x.") else str(tmp_path / a) for a in argv]
    assert record.main([*argv, "--no-upload"]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.glob("x.*")) == []
