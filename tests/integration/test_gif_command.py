"""``snaplark gif RECORDING`` (issue 19, "Save as GIF" for a finished recording): a WebM and an MP4 written in the
test become GIFs that Pillow decodes with the right frames and length, ``--start``/``--end`` pick the part, more
than 60 s is refused naming the limit, bad input is named, ``--upload`` serves it as ``image/gif``."""

from __future__ import annotations

import socket

import pytest
import requests

from tray.cli import main

from tests.e2e.capture.test_record_gif import _bar_x, _gif_facts
from tests.share_links import file_of
from tests.video_clips import write_clip

np = pytest.importorskip("numpy")
pytest.importorskip("av")


def bar_pictures(seconds: float, fps: int, size=(160, 48)):
    """Frame i: a white 4 px bar at x = i on black (tests/e2e/capture/test_record_gif.py's _bar_x reads it)."""
    for i in range(round(seconds * fps)):
        rgb = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        x = i % (size[0] - 4)
        rgb[:, x:x + 4] = 255
        yield rgb


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return {"webm": write_clip(d / "rec.webm", bar_pictures(10, 10), 10),
            "mp4": write_clip(d / "rec.mp4", bar_pictures(10, 10), 10, codec="libx264")}


def _last_frame(path):
    from PIL import Image

    with Image.open(path) as gif:
        gif.seek(gif.n_frames - 1)
        return gif.convert("RGB")


@pytest.mark.parametrize("kind", ["webm", "mp4"])
def test_whole_recording_to_gif_next_to_it(clips, kind, tmp_path, capsys):
    src = tmp_path / f"rec.{kind}"
    src.write_bytes(clips[kind].read_bytes())
    assert main(["gif", str(src)]) == 0
    out, err = capsys.readouterr()
    gif = tmp_path / "rec.gif"
    assert out.strip() == str(gif)
    frames, total_ms, size, firsts = _gif_facts(gif)
    print(f"{kind}: {frames} frames, {total_ms} ms, {size}, {gif.stat().st_size} bytes")
    assert (frames, total_ms, size) == (100, 10000, (160, 48))  # 10 fps source under the 15 fps cap: every picture
    assert [_bar_x(f) for f in firsts] == [0, 1, 2]
    assert _bar_x(_last_frame(gif)) == 99
    assert f"GIF 160x48, 100 frames, 10.00 s" in err and str(gif) in err
    assert not list(tmp_path.glob("*.part")) and src.read_bytes() == clips[kind].read_bytes()


@pytest.mark.parametrize("kind", ["webm", "mp4"])
def test_start_and_end_pick_the_part(clips, kind, tmp_path, capsys):
    out = tmp_path / "part.gif"
    assert main(["gif", str(clips[kind]), "--start", "2.5", "--end", "6.5", "--out", str(out)]) == 0, \
        capsys.readouterr().err
    frames, total_ms, size, firsts = _gif_facts(out)
    assert (frames, total_ms) == (40, 4000)  # pictures 25..64
    assert [_bar_x(f) for f in firsts] == [25, 26, 27]  # starts with the picture shown at 2.5 s, not 0
    assert _bar_x(_last_frame(out)) == 64
    # --end past the end: said, and up to the end
    assert main(["gif", str(clips[kind]), "--start", "8", "--end", "30", "--out", str(tmp_path / "tail.gif")]) == 0
    assert "--end 30 is after the end of" in capsys.readouterr().err
    frames, total_ms, _, firsts = _gif_facts(tmp_path / "tail.gif")
    assert (frames, total_ms, _bar_x(firsts[0])) == (20, 2000, 80)


def test_more_than_60_seconds_is_refused_naming_the_limit(tmp_path, capsys):
    src = write_clip(tmp_path / "long.webm", bar_pictures(62, 2, size=(64, 48)), 2)
    assert main(["gif", str(src)]) == 2
    err = capsys.readouterr().err
    assert "GIF clips are limited to 60 s and long.webm from 0 s to the end is 62.0 s" in err
    assert "--start/--end" in err
    assert not (tmp_path / "long.gif").exists() and not list(tmp_path.glob("*.part"))
    # --end 91 is past the end: 30 s to the end (32 s) is what is asked, and allowed
    assert main(["gif", str(src), "--start", "30", "--end", "91", "--out", str(tmp_path / "tail.gif")]) == 0
    capsys.readouterr()
    assert _gif_facts(tmp_path / "tail.gif")[1] == 32000
    assert main(["gif", str(src), "--start", "1", "--end", "61.5"]) == 2
    assert "is 60.5 s" in capsys.readouterr().err
    assert main(["gif", str(src), "--start", "2"]) == 0  # 60 s: allowed
    frames, total_ms, _, _ = _gif_facts(tmp_path / "long.gif")
    assert (frames, total_ms) == (121, 60000)  # pictures 4..123, the last one again at the end (it lasts 0.5 s)


def test_bad_input_is_named(clips, tmp_path, capsys):
    def refused(*argv: str) -> str:
        assert main(["gif", *argv]) == 2
        return capsys.readouterr().err

    assert f"{tmp_path / 'nope.webm'}: no such file" in refused(str(tmp_path / "nope.webm"))
    assert f"{tmp_path} is not a file" in refused(str(tmp_path))
    text = tmp_path / "notes.webm"
    text.write_text("not a video at all\n" * 50)
    assert f"{text} is not a video file that can be read" in refused(str(text))
    assert "--end (2) must be after --start (3)" in refused(str(clips["webm"]), "--start", "3", "--end", "2")
    assert "--start 12 is at or past the end of rec.webm (it lasts 10.00 s)" in refused(str(clips["webm"]),
                                                                                       "--start", "12")
    assert "the file name must end in .gif" in refused(str(clips["webm"]), "--out", str(tmp_path / "x.png"))
    kept = tmp_path / "kept.gif"
    kept.write_bytes(b"GIF89a mine")
    assert "kept.gif exists: choose another --out, or add --overwrite" in refused(str(clips["webm"]), "--out",
                                                                                   str(kept))
    assert kept.read_bytes() == b"GIF89a mine"  # never lost
    assert "not a number of seconds: 'soon'" in refused(str(clips["webm"]), "--start", "soon")
    assert main(["gif", str(clips["webm"]), "--out", str(kept), "--overwrite", "--end", "1"]) == 0
    assert _gif_facts(kept)[:2] == (10, 1000)


def test_upload_to_the_embedded_server_serves_image_gif(clips, tmp_path, capsys, monkeypatch):
    from snaplark_server.config import ServerConfig
    from snaplark_server.runner import ServerThread

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "cfg" / "config.toml"  # the test's SNAPLARK_CONFIG (tests/conftest.py)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[server]\nembedded_port = {port}\n[upload]\ncopy = "file"\n')
    # the embedded server's token lives in memory; no keyring daemon to wait on (test_record_gif.py does the same)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    out = tmp_path / "up.gif"
    assert main(["gif", str(clips["webm"]), "--end", "2", "--out", str(out), "--upload"]) == 0
    stdout, err = capsys.readouterr()
    url = stdout.strip().splitlines()[-1]
    assert url.startswith(f"http://127.0.0.1:{port}/") and url.endswith(".gif"), (stdout, err)
    with ServerThread(ServerConfig(port=port, data_dir=tmp_path / "data" / "server")):
        body = requests.get(file_of(url), timeout=30)
    assert body.status_code == 200 and body.headers["content-type"] == "image/gif"
    assert body.content == out.read_bytes()
    assert main(["history"]) == 0  # one row, kind gif, with its link (the journal recorded the GIF)
    (line,) = capsys.readouterr().out.splitlines()
    assert f" gif " in line and url in line and line.endswith(f"({out})")
