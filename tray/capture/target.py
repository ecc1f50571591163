"""Turning "region / monitor N / everything" into one validated rectangle of the virtual screen."""

from __future__ import annotations

from tray_platform.base import DisplayInfo, Monitor, Region

from tray.capture.errors import InvalidCaptureTarget


def parse_region(text: str) -> Region:
    """``"X,Y,W,H"`` -> Region (the CLI's --region)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise InvalidCaptureTarget(f"region must be X,Y,W,H (four integers), got {text!r}")
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise InvalidCaptureTarget(f"region must be X,Y,W,H (four integers), got {text!r}") from None
    return Region(x, y, w, h)


def screen_layout(display: DisplayInfo) -> tuple[Region, list[Monitor]]:
    """The virtual screen and the monitors, read at one look where the adapter can (X11: one connection instead
    of two, ``layout()``), else with its two calls."""
    layout = getattr(display, "layout", None)
    if layout is not None:
        return layout()
    return display.virtual_screen(), display.monitors()


def resolve_target(display: DisplayInfo, region: Region | None = None, monitor: int | None = None) -> Region:
    """The rectangle to capture: ``region`` (must lie fully on the virtual screen), monitor ``monitor`` (0-based),
    or the whole virtual screen (all monitors) when both are None."""
    if region is not None and monitor is not None:
        raise InvalidCaptureTarget("give a region or a monitor, not both")
    if monitor is not None:  # the monitors alone: each DisplayInfo call opens its own display connection
        monitors = display.monitors()
        if not 0 <= monitor < len(monitors):
            raise InvalidCaptureTarget(
                f"monitor {monitor} does not exist: this display has {len(monitors)} monitor(s), "
                f"numbered 0..{len(monitors) - 1}")
        return monitors[monitor].region
    screen = display.virtual_screen()
    if region is None:
        return screen
    if region.width <= 0 or region.height <= 0:
        raise InvalidCaptureTarget(f"region has zero or negative size: {region.width}x{region.height}")
    if (region.left < screen.left or region.top < screen.top
            or region.right > screen.right or region.bottom > screen.bottom):
        raise InvalidCaptureTarget(
            f"region {region.left},{region.top},{region.width},{region.height} is not inside the screen "
            f"({screen.left},{screen.top} {screen.width}x{screen.height})")
    return region


def even_region(region: Region) -> Region:
    """yuv420p needs even width and height: drop the rightmost column / bottom row of an odd-sized region.

    A 1-pixel-wide or -high region cannot be made even by cropping and is rejected."""
    if region.width < 2 or region.height < 2:
        raise InvalidCaptureTarget(f"region {region.width}x{region.height} is too small to record (minimum 2x2)")
    return Region(region.left, region.top, region.width - region.width % 2, region.height - region.height % 2)
