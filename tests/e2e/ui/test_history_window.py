"""The History window (issue 20) on the shared Xvfb with a real SQLite journal, real capture files (PNGs and a
VP9 WebM made with PyAV), the real reference server for retry, the real X clipboard (read back with ``xclip``) and
the real Tk confirmation dialog (answered with ``xdotool``): states, thumbnails (their pixels are the capture's
colours), search, copy link, delete local file, retry of a failed upload.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.ui.conftest import answer_dialog, pump, screenshot
from tests.procutil import need_tool

pytestmark = pytest.mark.e2e

RED, GREEN, BLUE, YELLOW, MAGENTA, CYAN = ((220, 30, 30), (30, 200, 40), (30, 40, 220), (240, 220, 20),
                                           (230, 0, 230), (0, 210, 210))


def at(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").timestamp()


def png(folder: Path, name: str, colour) -> Path:
    path = folder / name
    Image.new("RGB", (320, 180), colour).save(path)
    return path


def webm(folder: Path, name: str, colour) -> Path:
    import av

    path = folder / name
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libvpx-vp9", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 96), colour))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def captures(tmp_path):
    """A journal with two uploaded screenshots, an uploaded recording, a failed and a half-uploaded screenshot, and
    a capture saved without uploading (local only). Returns (journal, folder, {name: path})."""
    from tray.upload.journal import PartRecord, UploadJournal

    folder = tmp_path / "captures"
    folder.mkdir()
    clock = Clock()
    journal = UploadJournal(tmp_path / "uploads.sqlite3", clock=clock).open()
    files = {}

    def session(name, when, make, colour, kind="screenshot", **fields):
        clock.now = at(when)
        path = files[name] = make(folder, name, colour)
        return journal.create_session(kind, path, finished=True, total_size=path.stat().st_size, **fields)

    sid = session("screenshot-1001.png", "2024-03-05 10:00", png, RED)
    journal.complete(sid, "http://links.example/s/red")
    sid = session("screenshot-1002.png", "2025-07-01 09:30", png, GREEN)
    journal.complete(sid, "http://links.example/s/green")
    sid = session("recording-1003.webm", "2025-07-02 12:00", webm, YELLOW, kind="video", duration=0.3)
    journal.complete(sid, "http://links.example/v/yellow")
    sid = session("screenshot-1004.png", "2025-07-03 08:00", png, BLUE)
    journal.set_state(sid, "failed", error="server answered 500")
    sid = session("screenshot-1005.png", "2025-07-04 08:00", png, CYAN)
    size = files["screenshot-1005.png"].stat().st_size
    journal.add_parts(sid, [PartRecord(0, 0, size // 2, acked=True), PartRecord(1, size // 2, size - size // 2)])
    journal.set_state(sid, "uploading")
    files["screenshot-1006.png"] = png(folder, "screenshot-1006.png", MAGENTA)  # saved, never uploaded
    yield journal, folder, files
    journal.close()


@pytest.fixture
def window_of(tk_root, tmp_path):
    """Opens a HistoryWindow over a journal; closes it at the end."""
    from tray.thumbnails import ThumbnailCache
    from tray.ui.context import TrayContext
    from tray.ui.dispatcher import UiDispatcher
    from tray.ui.history_window import HistoryWindow
    from tray.upload.history import UploadHistory
    from tray_platform.fallback.notify import LogNotifier

    opened = []

    def open_window(journal, folder, *, engine=None, clipboard=None, **kwargs):
        ctx = TrayContext(None)
        ctx.root, ctx.dispatcher, ctx.notifier, ctx.clipboard = tk_root, UiDispatcher(tk_root), LogNotifier(), \
            clipboard
        ctx.dispatcher.start()
        window = HistoryWindow(ctx, UploadHistory(journal), save_dir=lambda: folder, engine=lambda: engine,
                               thumbnails=ThumbnailCache(tmp_path / "thumbs"), **kwargs)
        opened.append(window)
        pump(tk_root, lambda: window.top.winfo_viewable(), timeout=5)
        return window

    yield open_window
    for window in opened:
        window.close()
    pump(tk_root, timeout=0.1)


def by_name(window):
    return {item.name: item for item in window.shown}


def centre_colour(image) -> tuple:
    got = image.get(image.width() // 2, image.height() // 2)
    return tuple(int(v) for v in (got.split() if isinstance(got, str) else got))


def near(a, b, tolerance=24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def test_lists_every_capture_with_its_state_and_a_thumbnail_of_its_pictures(window_of, captures, tk_root):
    journal, folder, files = captures
    window = window_of(journal, folder)
    items = by_name(window)
    assert [i.name for i in window.shown] == ["screenshot-1006.png", "screenshot-1005.png", "screenshot-1004.png",
                                              "recording-1003.webm", "screenshot-1002.png", "screenshot-1001.png"]
    assert {name: item.state_text for name, item in items.items()} == {
        "screenshot-1001.png": "uploaded", "screenshot-1002.png": "uploaded", "recording-1003.webm": "uploaded",
        "screenshot-1004.png": "failed: server answered 500", "screenshot-1005.png": "uploading 50%",
        "screenshot-1006.png": "local only"}
    row = window.tree.item(window._iid_of[items["recording-1003.webm"].key])
    assert row["values"][0] == "2025-07-02 12:00" and row["values"][1] == "Recording"
    assert row["values"][2].startswith("0:00 · ") and row["values"][2].endswith(" B")
    assert pump(tk_root, lambda: all(window.thumbnail(i) is not None for i in window.shown), timeout=20), \
        "thumbnails did not arrive"
    colours = {"screenshot-1001.png": RED, "screenshot-1002.png": GREEN, "recording-1003.webm": YELLOW,
               "screenshot-1004.png": BLUE, "screenshot-1005.png": CYAN, "screenshot-1006.png": MAGENTA}
    for name, colour in colours.items():
        got = centre_colour(window.thumbnail(items[name]))
        assert near(got, colour), f"{name}: thumbnail centre {got}, capture {colour}"
    assert window.tree.item(window._iid_of[items["screenshot-1001.png"].key])["image"], "not shown in its row"
    cached = list((Path(window.loader.cache.folder)).glob("*.png"))
    assert len(cached) == 6  # made once, kept on disk
    pump(tk_root, timeout=0.3)
    screenshot("history-window")


def test_search_filters_by_name_date_and_state(window_of, captures, tk_root):
    journal, folder, _ = captures
    window = window_of(journal, folder)

    def search(text):
        window.search_var.set(text)
        assert pump(tk_root, lambda: window.query == text and len(window.tree.get_children()) == len(window.shown),
                    timeout=3)
        return [i.name for i in window.shown]

    assert search("1002") == ["screenshot-1002.png"]
    assert search("2024-03") == ["screenshot-1001.png"]
    assert search("2025-07-0 screenshot") == ["screenshot-1005.png", "screenshot-1004.png", "screenshot-1002.png"]
    assert search("failed") == ["screenshot-1004.png"]
    assert search("recording") == ["recording-1003.webm"]
    assert search("") == [i.name for i in window.items] and len(window.tree.get_children()) == 6
    assert window.count_label.cget("text") == "6 of 6"


def test_copy_link_puts_the_link_on_the_x_clipboard(window_of, captures, tk_root):
    need_tool("xclip")
    from tray_platform.linux.clipboard import create

    journal, folder, _ = captures
    window = window_of(journal, folder, clipboard=create())
    items = by_name(window)
    window.select(items["screenshot-1004.png"])  # failed: no link to copy
    assert "disabled" in window.buttons["copy_link"].state()
    window.select(items["screenshot-1002.png"])
    assert "disabled" not in window.buttons["copy_link"].state()
    window.buttons["copy_link"].invoke()
    out = subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True, timeout=5).stdout
    assert out.decode() == "http://links.example/s/green"
    assert "Link copied" in window.status.cget("text")


def test_delete_file_asks_first_and_removes_only_after_yes(window_of, captures, tk_root):
    need_tool("xdotool")
    journal, folder, files = captures
    window = window_of(journal, folder)
    local = by_name(window)["screenshot-1006.png"]
    window.select(local)
    driver = answer_dialog("Delete file\\?", "alt+n")  # "No"
    window.buttons["delete_file"].invoke()
    pump(tk_root, lambda: not driver.is_alive(), timeout=25)  # Tk flushes the closed dialog to X
    assert files["screenshot-1006.png"].exists(), "deleted although the answer was No"
    driver = answer_dialog("Delete file\\?", "alt+y")  # "Yes"
    window.buttons["delete_file"].invoke()
    pump(tk_root, lambda: not driver.is_alive(), timeout=25)  # Tk flushes the closed dialog to X
    assert not files["screenshot-1006.png"].exists()
    pump(tk_root, lambda: "screenshot-1006.png" not in by_name(window), timeout=3)
    assert "screenshot-1006.png" not in by_name(window)  # local only and gone: nothing left to list
    assert len(window.shown) == 5


def test_retry_finishes_a_failed_upload_on_the_server(window_of, captures, tk_root, server):
    from tray.api.client import ApiClient
    from tray.upload.engine import UploadEngine

    journal, folder, files = captures
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal,
                          server_url=server.api_url)
    try:
        window = window_of(journal, folder, engine=engine)
        failed = by_name(window)["screenshot-1004.png"]
        window.select(failed)
        assert "disabled" not in window.buttons["retry"].state()
        window.buttons["retry"].invoke()
        assert pump(tk_root, lambda: by_name(window)["screenshot-1004.png"].status == "uploaded", timeout=20), \
            by_name(window)["screenshot-1004.png"].state_text
        url = by_name(window)["screenshot-1004.png"].url
        import requests

        served = requests.get(url, timeout=10)
        assert served.status_code == 200 and served.content == files["screenshot-1004.png"].read_bytes()
    finally:
        engine.stop()


def test_delete_link_removes_the_upload_on_the_server_after_yes(window_of, captures, tk_root, server):
    import requests

    from tray.api.client import ApiClient
    from tray.services import ServerConnection
    from tray.ui.history_actions import delete_on_server
    from tray.upload.engine import UploadEngine
    from tray.upload.history import UploadHistory

    journal, folder, files = captures
    connection = ServerConnection(server.api_url, lambda: server.token)
    engine = UploadEngine(lambda: ApiClient(server.api_url, lambda: server.token), journal,
                          server_url=server.api_url)
    try:
        url = engine.upload_screenshot(files["screenshot-1006.png"]).wait(30)
        assert requests.get(url, timeout=10).status_code == 200
        window = window_of(journal, folder, engine=engine,
                           delete_link=lambda item: delete_on_server(connection, item.url, UploadHistory(journal)))
        item = by_name(window)["screenshot-1006.png"]
        assert item.url == url
        window.select(item)
        assert "disabled" not in window.buttons["delete_link"].state()
        driver = answer_dialog("Delete link\\?", "alt+y")
        window.buttons["delete_link"].invoke()
        pump(tk_root, lambda: not driver.is_alive(), timeout=25)
        assert pump(tk_root, lambda: "Link deleted" in window.status.cget("text"), timeout=15), \
            window.status.cget("text")
        assert requests.get(url, timeout=10).status_code == 410
        assert files["screenshot-1006.png"].exists()  # the local file stays

        # the journal recorded it: the row says so (and is found by it); its dead link cannot be copied or opened
        gone = by_name(window)["screenshot-1006.png"]
        assert gone.state_text == "link deleted" and journal.history()[0].deleted_at is not None
        row = window.tree.item(window._iid_of[gone.key])
        assert row["values"][3] == "link deleted"
        window.select(gone)
        for name in ("copy_link", "open_link", "delete_link"):
            assert "disabled" in window.buttons[name].state(), name
        window.search_var.set("link deleted")
        assert pump(tk_root, lambda: [i.name for i in window.shown] == ["screenshot-1006.png"], timeout=3)
        window.search_var.set("")
        assert pump(tk_root, lambda: len(window.shown) == 6, timeout=3)

        # ... and the file can still be uploaded again: a second row, uploaded, with a new link that works
        window.select(by_name(window)["screenshot-1006.png"])
        assert "disabled" not in window.buttons["reupload"].state()
        window.buttons["reupload"].invoke()
        again = lambda: [i for i in window.shown if i.name == "screenshot-1006.png" and i.status == "uploaded"]
        assert pump(tk_root, again, timeout=20), [i.state_text for i in window.shown]
        assert again()[0].url != url and requests.get(again()[0].url, timeout=10).status_code == 200
        assert sorted(i.state_text for i in window.shown if i.name == "screenshot-1006.png") == \
            ["link deleted", "uploaded"]  # the fixture's journal clock stands still: the same date, either order
    finally:
        engine.stop()


def test_uploads_with_an_expiry_say_expires_in_then_expired(window_of, captures, tk_root, tmp_path):
    """An upload whose answer had expiresAt (the journal keeps it, schema 4) shows "uploaded · expires in …" and,
    once that time is past by the window's clock, "expired" with no link to copy, open or delete (it answers 410);
    uploads without an expiry stay "uploaded"."""
    journal, folder, files = captures
    now = at("2025-07-05 12:00")

    def uploaded(name, colour, expires_at):
        path = files[name] = png(folder, name, colour)
        sid = journal.create_session("screenshot", path, finished=True, total_size=path.stat().st_size)
        journal.complete(sid, f"http://links.example/s/{name[:-4]}", expires_at=expires_at)

    uploaded("screenshot-2001.png", RED, now + 6 * 86_400 + 3_000)
    uploaded("screenshot-2002.png", GREEN, now + 5 * 3_600 + 59)
    uploaded("screenshot-2003.png", BLUE, now - 1)
    window = window_of(journal, folder, clock=lambda: now, delete_link=lambda item: None)
    items = by_name(window)
    assert items["screenshot-2001.png"].state_text == "uploaded · expires in 6 days"
    assert items["screenshot-2002.png"].state_text == "uploaded · expires in 5 hours"
    assert items["screenshot-2003.png"].state_text == "expired"
    assert items["screenshot-1002.png"].state_text == "uploaded"  # no expiry known
    row = window.tree.item(window._iid_of[items["screenshot-2001.png"].key])
    assert row["values"][3] == "uploaded · expires in 6 days"  # what the State column shows
    window.select(items["screenshot-2003.png"])
    for action in ("copy_link", "open_link", "delete_link"):
        assert "disabled" in window.buttons[action].state(), action
    assert "disabled" not in window.buttons["reupload"].state()  # the file can go up again
    window.select(items["screenshot-2001.png"])
    assert "disabled" not in window.buttons["copy_link"].state()
    window.search_var.set("expired")
    assert pump(tk_root, lambda: [i.name for i in window.shown] == ["screenshot-2003.png"], timeout=3), \
        [i.name for i in window.shown]
    window.search_var.set("")
    assert pump(tk_root, lambda: len(window.shown) > 1, timeout=3)
    pump(tk_root, timeout=0.3)
    screenshot("history-window-expiry")
