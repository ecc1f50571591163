"""Screenshots and recordings in a real headless Wayland session (sway + xdg-desktop-portal-wlr + PipeWire), through
the same entry points the tray uses: ``capture_image`` / the default backends (session detection picks the
Wayland adapters), the selector's model on the portal's image, and the ``Recorder`` with its default capture
factory (the ScreenCast portal -> PipeWire -> GStreamer -> the existing encoder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.wayland.pattern_window_gtk import BAR_HEIGHT, BAR_TOP, BAR_WIDTH, SOLIDS
from tray_platform.base import Region

pytestmark = pytest.mark.e2e

EXPECTED_RGB = {name: tuple(255 * c for c in rgb) for name, (_x, _y, _w, _h, rgb) in SOLIDS.items()}


def close(a, b, tol=6) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def assert_solids(image, origin=(0, 0), tol=6) -> None:
    """Every solid rectangle of the pattern, sampled at 9 points inside it, has its colour."""
    for name, (x, y, w, h, _rgb) in SOLIDS.items():
        for fx in (0.2, 0.5, 0.8):
            for fy in (0.2, 0.5, 0.8):
                px = (int(x + fx * w) - origin[0], int(y + fy * h) - origin[1])
                got = image.getpixel(px)[:3]
                assert close(got, EXPECTED_RGB[name], tol), f"{name} at {px}: {got} != {EXPECTED_RGB[name]}"


def bar_span(image, y=BAR_TOP + BAR_HEIGHT // 2) -> tuple[int, int] | None:
    """Leftmost and rightmost x of yellow on row ``y`` (the moving bar), or None."""
    xs = [x for x in range(image.width) if close(image.getpixel((x, y))[:3], (255, 255, 0), 40)]
    return (xs[0], xs[-1]) if xs else None


def test_session_detection_picks_the_wayland_adapters(wayland_session):
    from tray_platform.base import choose_backend
    from tray_platform.linux.session import SessionKind, detect_session

    assert detect_session() is SessionKind.WAYLAND
    names = {concern: type(choose_backend(concern, **kw).backend).__name__
             for concern, kw in (("display", {}), ("capture", {}))}
    assert names == {"display": "WaylandDisplayInfo", "capture": "WaylandScreenCapture"}
    stream = choose_backend("capture", factory="create_stream", with_cursor=False).backend
    assert type(stream).__name__ == "ScreenCastCapture"


def test_display_info_reads_the_headless_output(wayland_session):
    from tray.capture.backends import default_display_info

    info = default_display_info()
    monitors = info.monitors()
    assert [(m.index, m.region, m.scale, m.primary) for m in monitors] == [(0, Region(0, 0, 1280, 720), 1.0, True)]
    assert info.virtual_screen() == Region(0, 0, 1280, 720)


def test_portal_screenshot_has_the_native_windows_pixels(pattern_window):
    from tray.capture.screenshot import capture_image
    from tray.ui.selection_model import SelectionModel, crop_to_region

    image = capture_image(None)  # all monitors: one Screenshot portal call
    assert image.size == (1280, 720) == pattern_window.size
    assert_solids(image)
    span = bar_span(image)
    assert span is not None and span[1] - span[0] + 1 == BAR_WIDTH, span

    # the selector's model works on the portal's image as on X11's frozen screenshot: drag out red + green
    model = SelectionModel(width=image.width, height=image.height)
    model.press(110, 110)
    model.release(490, 210)
    region = model.to_region((0, 0), 1.0)
    assert region == Region(110, 110, 380, 100)
    crop = crop_to_region(image, region)
    assert close(crop.getpixel((10, 10)), EXPECTED_RGB["red"]) and close(crop.getpixel((370, 90)),
                                                                         EXPECTED_RGB["green"])
    # a region through the ScreenCapture adapter (one portal screenshot, cropped)
    blue = capture_image(Region(120, 240, 160, 80))
    assert blue.size == (160, 80)
    assert {close(blue.getpixel((x, y)), EXPECTED_RGB["blue"]) for x in (0, 80, 159) for y in (0, 40, 79)} == {True}


def decode(path: Path):
    import av

    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            frames.append((float(frame.pts * frame.time_base), frame.to_image()))
        duration = float(container.duration / av.time_base) if container.duration else None
    return frames, duration


def test_ten_second_screencast_recording_decodes_with_the_moving_pattern(pattern_window, tmp_path):
    from tray.capture.recorder import Recorder, RecorderState
    from tray_platform.linux.screencast import default_token_path

    fps = 15
    path = tmp_path / "wayland.webm"
    rec = Recorder(path, region=Region(0, 0, 1280, 720), fps=fps, bitrate=2_000_000, max_duration=10.0)
    rec.start()
    assert rec.wait(60), "recording did not end at max_duration"
    result = rec.result
    assert rec.state is RecorderState.FINISHED and result.error is None, result.error
    frames, duration = decode(path)
    assert duration is not None and abs(duration - 10.0) <= 1.0 / fps
    assert {img.size for _, img in frames} == {(1280, 720)}
    # a moving pattern is never "identical": nearly every deadline gives a new frame
    assert len(frames) >= 0.8 * 10 * fps, (len(frames), result.stats)
    for _, img in frames[:: max(1, len(frames) // 10)]:
        assert_solids(img, tol=24)  # VP9 at 2 Mbit/s: flat colours within a few steps
    spans = [bar_span(img) for _, img in frames]
    assert all(s is not None for s in spans), [i for i, s in enumerate(spans) if s is None][:10]
    lefts = [s[0] for s in spans]
    # the bar moves 8 px per 33 ms step of the window: at 15 fps ~16 px between frames, wrapping at the right edge
    moves = [b - a for a, b in zip(lefts, lefts[1:])]
    forward = [m for m in moves if m > 0]
    assert len(forward) >= 0.8 * len(moves), moves[:40]
    assert len(set(lefts)) >= 50  # it wraps about twice in 10 s, so positions repeat, but it covers the screen
    assert min(lefts) < 200 and max(lefts) > 1000
    assert default_token_path().read_text().strip(), "the restore token was not kept"


def test_region_recording_crops_the_stream_and_reuses_the_restore_token(pattern_window, tmp_path):
    from tray.capture.recorder import Recorder
    from tray_platform.linux.screencast import ScreenCastCapture, default_token_path

    assert not default_token_path().exists()  # a fresh data dir per test
    first = ScreenCastCapture()
    try:
        first.grab(Region(0, 0, 16, 16))
    finally:
        first.close()
    assert first.restored is False
    token = default_token_path().read_text().strip()
    assert token

    second = ScreenCastCapture()
    made = []

    def factory():
        made.append(second)
        return second

    path = tmp_path / "region.webm"
    rec = Recorder(path, region=Region(100, 100, 400, 240), fps=10, max_duration=2.0, capture_factory=factory)
    rec.start()
    assert rec.wait(30) and rec.result.error is None, rec.result.error
    assert made and second.restored is True  # the kept token was offered: on GNOME/KDE no second dialog
    frames, _ = decode(path)
    assert {img.size for _, img in frames} == {(400, 240)}
    assert_solids(frames[-1][1], origin=(100, 100), tol=24)
