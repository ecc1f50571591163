"""Wayland adapter logic that needs no display: session detection, portal result unwrapping, the wl_output ->
Monitor mapping, stream cropping, and which adapter each session gets (the X11 path unchanged)."""

from __future__ import annotations

import struct

import pytest

from tray_platform.base import Region
from tray_platform.linux.portal import unwrap
from tray_platform.linux.screencast import crop_bgrx
from tray_platform.linux.session import BadSessionOverride, SessionKind, detect_session
from tray_platform.linux.wayland_capture import ScreenshotFailed, path_from_uri
from tray_platform.linux.wayland_display import WaylandOutput, _read_string, _string, monitors_from_outputs


@pytest.mark.parametrize("env, kind", [
    ({}, SessionKind.NONE),
    ({"DISPLAY": ":0"}, SessionKind.X11),
    ({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, SessionKind.X11),
    ({"XDG_SESSION_TYPE": "x11"}, SessionKind.X11),
    ({"WAYLAND_DISPLAY": "wayland-0"}, SessionKind.WAYLAND),
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, SessionKind.WAYLAND),  # XWayland sees X windows only
    ({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}, SessionKind.WAYLAND),
    ({"XDG_SESSION_TYPE": "tty"}, SessionKind.NONE),
    ({"SNAPLARK_SESSION": "x11", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":1"}, SessionKind.X11),
    ({"SNAPLARK_SESSION": "Wayland"}, SessionKind.WAYLAND),
])
def test_session_detection(env, kind):
    assert detect_session(env) is kind


@pytest.mark.parametrize("value", ["none", "mir", "xorg"])
def test_bad_override_names_the_variable(value):
    with pytest.raises(BadSessionOverride, match="SNAPLARK_SESSION"):
        detect_session({"SNAPLARK_SESSION": value})


def test_x11_session_keeps_the_mss_adapters(monkeypatch):
    from tray_platform.linux import capture, display

    monkeypatch.setenv("DISPLAY", ":99")
    for name in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "SNAPLARK_SESSION"):
        monkeypatch.delenv(name, raising=False)
    assert type(capture.create()).__name__ == "X11ScreenCapture"
    assert type(capture.create_stream()).__name__ == "X11ScreenCapture"
    assert type(display.create()).__name__ == "X11DisplayInfo"


def test_wayland_session_gets_the_portal_adapters_without_any_io(monkeypatch):
    from tray_platform.linux import capture, display

    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("DISPLAY", ":0")
    assert type(capture.create(with_cursor=True)).__name__ == "WaylandScreenCapture"
    assert type(capture.create_stream(with_cursor=True)).__name__ == "ScreenCastCapture"
    assert type(display.create()).__name__ == "WaylandDisplayInfo"


def test_unwrap_portal_variants():
    raw = {"uri": ("s", "file:///tmp/a%20b.png"),
           "streams": ("a(ua{sv})", [(37, {"position": ("(ii)", (0, 0)), "size": ("(ii)", (1280, 720))})])}
    assert unwrap(raw) == {"uri": "file:///tmp/a%20b.png",
                           "streams": [(37, {"position": (0, 0), "size": (1280, 720)})]}
    assert path_from_uri("file:///tmp/a%20b.png") == "/tmp/a b.png"
    with pytest.raises(ScreenshotFailed):
        path_from_uri("https://example.com/x.png")


def test_monitors_from_outputs_sorted_scaled_and_primary_at_origin():
    outs = [WaylandOutput(1, mode_width=2560, mode_height=1440, scale=2, logical_x=1920, logical_y=0),
            WaylandOutput(2, mode_width=1920, mode_height=1080, scale=1, logical_x=0, logical_y=0),
            WaylandOutput(3, mode_width=1080, mode_height=1920, transform=1, x=0, y=1080),  # rotated, no xdg
            WaylandOutput(4)]  # disabled: no mode
    ms = monitors_from_outputs(outs)
    assert [(m.index, m.region, m.scale, m.primary) for m in ms] == [
        (0, Region(0, 0, 1920, 1080), 1.0, True),
        (1, Region(3840, 0, 2560, 1440), 2.0, False),
        (2, Region(0, 1080, 1920, 1080), 1.0, False),
    ]


def test_wire_strings_round_trip():
    for text in ("", "wl_output", "abc", "abcd"):
        raw = _string(text)
        assert len(raw) % 4 == 0
        assert _read_string(raw, 0) == (text, len(raw))
        assert struct.unpack_from("=I", raw)[0] == len(text.encode()) + 1


def test_crop_bgrx_with_padded_stride():
    width, height, stride = 3, 2, 16  # 12 bytes of pixels + 4 of padding per row
    data = bytes(range(32))
    assert crop_bgrx(width, height, stride, data, (1, 0, 3, 2)) == bytes(range(4, 12)) + bytes(range(20, 28))
    full = bytes(range(24))
    assert crop_bgrx(3, 2, 12, full, (0, 0, 3, 2)) is full
