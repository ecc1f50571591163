"""Issue 12 #5: "Record screen" recorded Snaplark's own control bar (and its notifications).

A full-screen recording of a known, still test pattern: every decoded frame must be the pattern (no control bar,
no border), the screen shows nothing of ours while it runs (X11 cannot keep a window out of captures, so the bar is
not shown; the tray icon's state and menu, and the hotkeys, control the recording, like ShareX), and our
notifications wait until the recording has ended. A region recording keeps its bar and shows notifications at once.
Screenshot: test-artifacts/recording/fullscreen_recording.png.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from recording_helpers import (block_differences, decode_frames, grab_screen, near_colour, pump, pump_until,
                               tiles_of_colour)
from tray_platform.base import Region

pytestmark = pytest.mark.e2e

BAR_BG = (32, 32, 32)  # the control bar's background (#202020)
STOP_RED = (229, 57, 53)  # its Stop button (#e53935), a colour the pattern does not have


def upload_completed(upload_id: int):
    from tray.upload.events import StateChanged
    from tray.upload.state import UploadState

    return StateChanged(upload_id, "screenshot", UploadState.FINALIZING, UploadState.COMPLETED,
                        url=f"http://127.0.0.1:9/s/{upload_id}.png")


def from_worker_thread(fn) -> None:
    t = threading.Thread(target=fn, name="upload-worker-stand-in")
    t.start()
    t.join(10)


def test_full_screen_recording_contains_only_the_screen(make_app, pattern_screen, artifacts):
    from tray.ui.tray_icon import TrayState

    app = make_app(countdown=0)
    ref = pattern_screen.reference
    app.record_screen()  # the tray menu's "Record screen"
    pump_until(app.root, lambda: app.recording is not None, 5, "the recording to start")
    assert app.recording.region == pattern_screen.region
    pump(app.root, 1.4)
    shot = grab_screen(artifacts / "fullscreen_recording.png")
    assert TrayState.RECORDING in app.tray.states, "the tray icon does not show the recording"
    rec = app.recording
    app.stop_recording()
    pump_until(app.root, lambda: app.recording is None, 30, "the recording to end")

    frames = decode_frames(rec.path)
    assert frames, "no frames"
    for i, frame in enumerate(frames):
        assert frame.shape == ref.shape
        bar_tiles = tiles_of_colour(frame, BAR_BG, tol=6, block=8)
        stop_red = int(near_colour(frame, STOP_RED, 20).sum())
        assert bar_tiles == 0 and stop_red == 0, (f"frame {i} of the full-screen recording contains the control bar "
                                                  f"({bar_tiles} 8x8 tiles of its background, {stop_red} pixels of "
                                                  f"its Stop button's red)")
        diff = block_differences(frame, ref)
        ty, tx = np.unravel_index(diff.argmax(), diff.shape)
        assert diff.max() < 20, (f"frame {i} differs from the screen around ({tx * 16}, {ty * 16}): "
                                 f"mean difference {diff.max():.0f} in a 16x16 tile (our own window recorded?)")
    assert np.array_equal(shot, ref), "Snaplark drew something on the screen during a full-screen recording"


def test_full_screen_recording_holds_our_notifications_until_it_ends(make_app, pattern_screen):
    app = make_app(countdown=1)
    app.record_screen()
    # something worth telling the user happens meanwhile: an upload finishes during the countdown (a notification
    # shown then would still be on screen when the recording starts), a hotkey problem is found while recording
    pump(app.root, 0.3)
    from_worker_thread(lambda: app._on_upload_event(upload_completed(41)))
    pump_until(app.root, lambda: app.recording is not None, 5, "the recording to start")
    app.ctx.notify_error("Hotkey not registered", "Ctrl+Alt+P is taken by another program")
    pump(app.root, 0.8)
    shown_while_recording = [title for _, title, _ in app.notifier.calls]
    app.stop_recording()
    pump_until(app.root, lambda: app.recording is None, 30, "the recording to end")
    assert shown_while_recording == [], f"notifications shown during a full-screen recording: {shown_while_recording}"
    titles = [title for _, title, _ in app.notifier.calls]
    assert titles == ["Screenshot uploaded", "Hotkey not registered", "Recording saved"], titles  # afterwards


def test_region_recording_keeps_its_bar_and_notifies_at_once(make_app, pattern_screen):
    app = make_app(countdown=0)
    region = Region(200, 100, 480, 300)
    app.recordings.start(region, pattern_screen.region)
    pump_until(app.root, lambda: app.recording is not None, 5, "the recording to start")
    assert app.recording.control is not None
    x, y, w, h = app.recording.control.geometry
    assert y >= region.bottom, "the bar is not below the region"
    from_worker_thread(lambda: app._on_upload_event(upload_completed(42)))
    pump(app.root, 0.3)
    assert [title for _, title, _ in app.notifier.calls] == ["Screenshot uploaded"]
