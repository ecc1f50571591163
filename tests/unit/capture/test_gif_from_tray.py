"""GIF recordings from the tray: the setting and the Settings window accept ``gif``, the length is capped at the GIF
limit and told, and what happens at the stop (tray/ui/gif_recording.py) with real files and the real converter:
a clip becomes a GIF handed to the upload and the spool goes; an unreadable spool is kept and named."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.capture.test_record_gif import _synthetic
from tray.capture.gif import GIF_MAX_SECONDS, gif_max_duration, stopped_at_limit
from tray.ui import settings_form as form
from tray.ui.gif_recording import GifFinisher, limit_notice


def test_settings_window_offers_gif_and_the_schema_takes_it():
    spec = next(s for s in form.TABS["Capture"] if s.key == "capture.format")
    assert spec.choices == ("webm", "mp4", "gif") and "60 s" in spec.hint
    assert form.problem("capture.format", "gif") is None
    assert form.problem("capture.format", "avi") == "capture.format = 'avi': must be one of 'webm', 'mp4', 'gif'"


@pytest.mark.parametrize("setting, limit", [(0, 60.0), (30, 30.0), (60, 60.0), (600, 60.0)])
def test_a_gif_recording_is_capped_at_the_limit(setting, limit):
    assert GIF_MAX_SECONDS == 60 and gif_max_duration(setting) == limit


def test_the_limit_is_told():
    assert limit_notice(60.0) == "Recording a GIF: it stops by itself at 60 s, the limit for GIF clips"
    assert limit_notice(20.0) == "Recording a GIF: it stops at 20 s (capture.max_duration)"
    assert stopped_at_limit(59.97) and not stopped_at_limit(59.0)


class Ctx:
    """The tray context's messages (the notifier is the OS edge: D-Bus); ``post`` runs at once."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []
        self.notifier = self

    def post(self, fn) -> None:
        fn()

    def notify_error(self, title: str, body: str) -> None:
        self.messages.append(("error", title, body))

    def confirm(self, title: str, body: str) -> None:
        self.messages.append(("confirm", title, body))

    def notify(self, title: str, body: str) -> None:
        self.messages.append(("notify", title, body))


class Result:
    def __init__(self, duration: float, error: str | None = None) -> None:
        self.duration, self.error = duration, error


def test_the_spool_becomes_a_gif_that_is_uploaded_and_the_spool_goes(tmp_path):
    spool = tmp_path / "recording-1.webm"
    _synthetic(spool, 1.0, 15)
    ctx, queued, awaited = Ctx(), [], []
    finisher = GifFinisher(ctx, lambda path: queued.append(path) or f"upload of {path.name}", awaited.append)
    finisher.finish(Result(1.0), spool).join(30)
    gif = tmp_path / "recording-1.gif"
    assert queued == [gif] and awaited == ["upload of recording-1.gif"]
    assert not spool.exists() and ctx.messages == []
    with Image.open(gif) as img:
        assert img.format == "GIF" and img.size == (160, 48) and img.n_frames == 15


def test_without_auto_upload_the_gif_is_kept_named_and_in_the_history_as_a_gif(tmp_path):
    from tray.upload.history import UploadHistory
    from tray.upload.journal import UploadJournal

    spool = tmp_path / "recording-2.webm"
    _synthetic(spool, 1.0, 10)
    ctx = Ctx()
    with UploadJournal(tmp_path / "uploads.sqlite3") as journal:
        history = UploadHistory(journal)
        GifFinisher(ctx, None, lambda upload: None, history=history).finish(Result(1.0), spool).join(30)
        [(kind, title, body)] = ctx.messages
        assert (kind, title) == ("notify", "GIF saved") and str(tmp_path / "recording-2.gif") in body
        assert "GIF 160x48, 10 frames, 1.00 s" in body
        [row] = history.catalog()  # History's row: a GIF, local only, its size and length
        gif = tmp_path / "recording-2.gif"
        assert (row.kind, row.state, row.local_path, row.size, row.duration) == \
            ("gif", "saved", str(gif), gif.stat().st_size, 1.0)


def test_an_unreadable_spool_is_kept_and_named(tmp_path):
    spool = tmp_path / "recording-3.webm"
    spool.write_bytes(b"not a video at all")
    ctx, queued = Ctx(), []
    GifFinisher(ctx, queued.append, lambda upload: None).finish(Result(2.0), spool).join(30)
    [(kind, title, body)] = ctx.messages
    assert (kind, title) == ("error", "Could not make the GIF") and f"kept at {spool}" in body
    assert spool.read_bytes() == b"not a video at all" and queued == []
    assert not Path(spool.with_suffix(".gif")).exists()
