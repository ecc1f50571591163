"""Issue 12 #6: a visible border around the region being recorded, outside the region, never in the video.

Screenshot: test-artifacts/recording/recording_border.png.
"""

from __future__ import annotations

import numpy as np
import pytest

from recording_helpers import (block_differences, decode_frames, grab_screen, hex_rgb, near_colour, pump,
                               pump_until)
from tray_platform.base import Region

pytestmark = pytest.mark.e2e

REGION = Region(120, 60, 400, 260)
BORDER = "#e53935"
T = 3  # px


def test_border_is_drawn_just_outside_the_region_and_is_not_in_the_video(make_app, pattern_screen, artifacts):
    app = make_app(countdown=0)
    ref = pattern_screen.reference
    colour = hex_rgb(BORDER)
    app.recordings.start(REGION, pattern_screen.region)
    pump_until(app.root, lambda: app.recording is not None, 5, "the recording to start")
    pump(app.root, 0.8)
    shot = grab_screen(artifacts / "recording_border.png")
    l, t, r, b = REGION.left, REGION.top, REGION.right, REGION.bottom
    sides = {
        "above": shot[t - T:t, l - T:r + T], "below": shot[b:b + T, l - T:r + T],
        "left of": shot[t:b, l - T:l], "right of": shot[t:b, r:r + T],
    }
    for name, strip in sides.items():
        share = near_colour(strip, colour, 0).mean()
        assert share == 1.0, f"the {T} px just {name} the region are not the border colour {BORDER} ({share:.0%})"
    assert np.array_equal(shot[t:b, l:r], ref[t:b, l:r]), "something of ours is drawn inside the recorded region"

    rec = app.recording
    app.stop_recording()
    pump_until(app.root, lambda: app.recording is None, 30, "the recording to end")
    assert not app.root.winfo_children() or all(not w.winfo_ismapped() for w in app.root.winfo_children()), \
        "border windows left after the recording ended"
    frames = decode_frames(rec.path)
    assert frames
    expected = ref[t:b, l:r]
    for i, frame in enumerate(frames):
        found = int(near_colour(frame, colour, 20).sum())
        assert found == 0, f"frame {i} contains {found} pixels of the border colour {BORDER}"
        assert block_differences(frame, expected).max() < 20, f"frame {i} is not the screen's region"
