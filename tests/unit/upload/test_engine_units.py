"""Engine pieces that need no server: input checks and init metadata."""

from pathlib import Path

import pytest

from tray.upload.cutter import LocalFileError
from tray.upload.engine import check_uploadable, seed_init_metadata


def test_init_metadata_defaults_and_overrides():
    m = seed_init_metadata(Path("/x/rec.mp4"), {"fps": 24, "resolution": "1280x720", "extra": 1}, 123)
    assert m == {"filename": "rec.mp4", "timestamp": 123, "fps": 24, "codec": "h264", "bitrate": 2_500_000,
                 "resolution": "1280x720", "extra": 1}


def test_init_metadata_repairs_values_the_server_would_refuse():
    m = seed_init_metadata(Path("rec.webm"), {"fps": "fast", "bitrate": 2.5e6, "resolution": "HD",
                                               "timestamp": -5, "codec": ""}, 9)
    assert (m["fps"], m["bitrate"], m["resolution"], m["timestamp"], m["codec"]) == (30, 2_500_000, "1920x1080", 9,
                                                                                     "vp9")
    assert isinstance(m["bitrate"], int)


def test_check_uploadable(tmp_path):
    with pytest.raises(LocalFileError, match="no such file"):
        check_uploadable(tmp_path / "nope.webm")
    with pytest.raises(LocalFileError, match="directory"):
        check_uploadable(tmp_path)
    (tmp_path / "e.png").write_bytes(b"")
    with pytest.raises(LocalFileError, match="empty"):
        check_uploadable(tmp_path / "e.png")
    (tmp_path / "a.bmp").write_bytes(b"BM")
    with pytest.raises(LocalFileError, match="unsupported file type .bmp"):
        check_uploadable(tmp_path / "a.bmp")
    (tmp_path / "a.gif").write_bytes(b"GIF89a")  # GIF clips (record --format gif) upload as images
    check_uploadable(tmp_path / "a.gif")
    (tmp_path / "ok.webm").write_bytes(b"\x1a\x45\xdf\xa3")
    check_uploadable(tmp_path / "ok.webm")
