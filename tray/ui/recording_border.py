"""A thin coloured frame just outside the region being recorded, so the user sees what is in the video.

Four borderless always-on-top Tk windows, one per side, entirely outside the region: the recording never contains
them, and X11 needs no compositor for it (no transparent full-screen window). A side with no room on the screen
(the region touches the screen edge) is left out; a full-screen recording has no border at all.

Tk thread only.
"""

from __future__ import annotations

from typing import Any

from tray_platform.base import Region

from tray.ui.overlay import frameless_topmost

COLOUR = "#e53935"  # Snaplark's recording red (the control bar's dot)
THICKNESS = 3


def _clip(rect: Region, screen: Region) -> Region | None:
    left, top = max(rect.left, screen.left), max(rect.top, screen.top)
    right, bottom = min(rect.right, screen.right), min(rect.bottom, screen.bottom)
    if right <= left or bottom <= top:
        return None
    return Region(left, top, right - left, bottom - top)


def border_rects(region: Region, screen: Region, thickness: int = THICKNESS) -> list[Region]:
    """The border's sides (top, bottom, left, right) around ``region``, clipped to ``screen``; none overlaps the
    region. Sides that fall off the screen are left out."""
    t = thickness
    sides = [
        Region(region.left - t, region.top - t, region.width + 2 * t, t),
        Region(region.left - t, region.bottom, region.width + 2 * t, t),
        Region(region.left - t, region.top, t, region.height),
        Region(region.right, region.top, t, region.height),
    ]
    return [r for r in (_clip(s, screen) for s in sides) if r is not None]


class RecordingBorder:
    def __init__(self, root: Any, region: Region, screen: Region, *, colour: str = COLOUR,
                 thickness: int = THICKNESS):
        self.rects = border_rects(region, screen, thickness)
        self.windows = []
        for rect in self.rects:
            win = frameless_topmost(root, background=colour, highlightthickness=0, bd=0)
            win.geometry(f"{rect.width}x{rect.height}+{rect.left}+{rect.top}")
            self.windows.append(win)

    def close(self) -> None:
        for win in self.windows:
            win.destroy()
        self.windows = []
