"""An uploaded video keeps its real container end to end (issue 12, #7): ``snaplark upload clip.mp4`` gives an
``.mp4`` link served as ``video/mp4`` (before: ``/v/<id>.webm`` served as ``video/webm``, the ``.mp4`` URL 404)."""

from __future__ import annotations

import hashlib
import io

import pytest
import requests

from tray.cli import main
from tests.share_links import file_of


def tiny_video(fmt: str, codec: str) -> bytes:
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


@pytest.mark.parametrize("name,fmt,codec,content_type", [
    ("clip.mp4", "mp4", "libx264", "video/mp4"),
    ("clip.webm", "webm", "libvpx-vp9", "video/webm"),
    ("clip.mkv", "matroska", "libvpx-vp9", "video/x-matroska"),
])
def test_the_container_and_content_type_survive_the_upload(server, tmp_path, capsys, monkeypatch, name, fmt, codec,
                                                           content_type):
    monkeypatch.setenv("SNAPLARK_TOKEN", server.token)
    path = tmp_path / name
    path.write_bytes(tiny_video(fmt, codec))
    assert main(["upload", "--server", server.api_url, "--no-progress", str(path)]) == 0
    url = file_of(capsys.readouterr().out.strip())  # the share page's video (upload.copy = "page")
    ext = name.rsplit(".", 1)[1]
    assert url.endswith("." + ext), url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == content_type
    assert hashlib.sha256(r.content).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    for other in {"mp4", "webm", "mkv"} - {ext}:  # one object, one name: no alias under another container
        assert requests.get(url[: -len(ext)] + other, timeout=10).status_code == 404
