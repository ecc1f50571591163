"""The History window's "Save as GIF" (issue 19) on the shared Xvfb: a recording in the journal becomes NAME.gif
beside it (Pillow decodes it: its colour and length) and its own row (kind GIF, local only, size, a thumbnail of its
pictures: the journal records it), a second save never overwrites the first, the button is off for screenshots, a
recording over the 60 s GIF limit is refused in the status line naming the limit. A GIF made by ``snaplark gif``
is listed by ``snaplark history`` and is a row of the window too."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.e2e.ui.conftest import pump, screenshot
from tests.e2e.ui.test_history_window import (YELLOW, by_name, captures, centre_colour, near, webm,  # noqa: F401
                                             window_of)
from tests.video_clips import write_clip

pytestmark = pytest.mark.e2e


def test_save_as_gif_writes_the_recording_beside_it(window_of, captures, tk_root):
    journal, folder, files = captures
    window = window_of(journal, folder)
    window.select(by_name(window)["screenshot-1001.png"])
    assert "disabled" in window.buttons["save_gif"].state()  # screenshots are no recordings
    window.select(by_name(window)["recording-1003.webm"])
    assert "disabled" not in window.buttons["save_gif"].state()
    window.buttons["save_gif"].invoke()
    gif = folder / "recording-1003.gif"
    assert pump(tk_root, lambda: window.status.cget("text").startswith("Saved"), timeout=20), \
        window.status.cget("text")
    assert window.status.cget("text").startswith("Saved recording-1003.gif: GIF 160x96, ")
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.size == (160, 96)
        total = 0
        for i in range(image.n_frames):
            image.seek(i)
            total += image.info["duration"]
        assert abs(total - 300) <= 67  # 3 frames at 10 fps: 0.3 s, to a GIF tick (1/15 s)
        assert near(image.convert("RGB").getpixel((80, 48)), YELLOW)
    first = gif.read_bytes()
    assert pump(tk_root, lambda: "recording-1003.gif" in by_name(window), timeout=10), "no row for the GIF"
    row = by_name(window)["recording-1003.gif"]
    assert (row.kind_text, row.state_text, row.size) == ("GIF", "local only", gif.stat().st_size)
    assert row.size_text.startswith("0:00 · ")  # its length, then its size
    assert pump(tk_root, lambda: window.thumbnail(row) is not None, timeout=20), "no thumbnail for the GIF"
    assert near(centre_colour(window.thumbnail(row)), YELLOW)
    window.select(row)
    pump(tk_root, timeout=0.3)
    shot = screenshot("history-save-as-gif")  # the GIF's row, selected, with its thumbnail
    assert sorted(r.kind for r in journal.history()) == ["screenshot", "screenshot", "video"]  # no link made up

    assert "disabled" in window.buttons["save_gif"].state()  # a GIF is no recording to convert
    window.select(by_name(window)["recording-1003.webm"])
    window.buttons["save_gif"].invoke()  # again: a new file, the first one kept
    assert pump(tk_root, lambda: (folder / "recording-1003-2.gif").exists()
                and window.status.cget("text").startswith("Saved recording-1003-2.gif"), timeout=20)
    assert gif.read_bytes() == first
    assert not list(folder.glob("*.part"))
    print(f"screenshot: {shot}")


def test_a_recording_over_the_limit_is_refused_naming_it(window_of, captures, tk_root):
    np = pytest.importorskip("numpy")
    journal, folder, files = captures
    long = write_clip(folder / "recording-2000.webm", (np.full((48, 64, 3), i, np.uint8) for i in range(62)), 1)
    window = window_of(journal, folder)
    window.select(by_name(window)["recording-2000.webm"])
    window.buttons["save_gif"].invoke()
    assert pump(tk_root, lambda: window.status.cget("text").startswith("Failed"), timeout=20)
    text = window.status.cget("text")
    assert "recording-2000.webm is too long for a GIF (GIF clips are limited to 60 s, this one is 62.0 s" in text
    assert f"snaplark gif {long} --start S --end S" in text
    assert not list(folder.glob("*.gif")) and not list(folder.glob("*.part"))


def test_a_gif_from_snaplark_gif_is_listed_by_history_and_is_a_row_of_the_window(window_of, tmp_path, tk_root,
                                                                                 capsys):
    from tray.cli import main
    from tray.upload.journal import UploadJournal, default_journal_path

    folder = tmp_path / "captures"
    folder.mkdir()
    recording = webm(folder, "recording-3000.webm", YELLOW)
    out = tmp_path / "elsewhere" / "clip.gif"
    out.parent.mkdir()
    assert main(["gif", str(recording), "--out", str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["history"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert " gif " in line and "(not uploaded)" in line and line.endswith(f"({out})")
    with UploadJournal(default_journal_path()) as journal:  # the one the CLI wrote: the tray app's
        window = window_of(journal, folder)
        items = by_name(window)
        assert set(items) == {"clip.gif", "recording-3000.webm"}  # the GIF, and the recording (local only)
        row = items["clip.gif"]
        assert (row.kind_text, row.state_text, row.local_path, row.size) == ("GIF", "local only", str(out),
                                                                            out.stat().st_size)
        assert "disabled" in window.buttons["copy_link"].state()
        window.select(row)
        assert "disabled" not in window.buttons["reupload"].state()
        assert pump(tk_root, lambda: window.thumbnail(row) is not None, timeout=20), "no thumbnail for the GIF"
        assert near(centre_colour(window.thumbnail(row)), YELLOW)
