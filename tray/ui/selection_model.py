"""The region selector's model: selection geometry and the overlay's pixels, with no Tk (unit-testable).

* :class:`SelectionModel` -- pure geometry in overlay pixels: drag a new rectangle, move the existing one,
  resize it from its 8 handles (corners and edge midpoints; the whole edge is grabbable, as in Flameshot),
  nudge/resize with the keyboard, pick the monitor under the cursor, convert to a
  :class:`tray_platform.base.Region` in physical virtual-screen pixels.
* :class:`SelectorImages` -- the frozen screenshot scaled to overlay pixels, bright and dimmed (pure Pillow: may be
  prepared off the Tk thread).
* :func:`crop_to_region`, :func:`monitors_to_overlay` -- between physical virtual-screen pixels and the frozen
  image / the overlay.

Coordinates. ``frozen`` is the screenshot of the whole virtual screen in *physical* pixels; its pixel (0, 0) is
the virtual-screen point ``origin``. The overlay works in *logical* pixels (= physical / ``scale``), which is what
Tk and the window system use on a scaled display. The platform adapter supplies ``scale`` and the monitor list;
this module only multiplies. On X11 scale is 1 and both are the same.

The Tk overlay that drives the model is :class:`tray.ui.selector.RegionSelector`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from PIL import Image

from tray_platform.base import Monitor, Region

Rect = tuple[int, int, int, int]  # left, top, right, bottom (right/bottom exclusive), overlay pixels

DIM_FACTOR = 0.45
HANDLE_TOLERANCE = 8  # overlay px either side of an edge that grab it (less on a small selection: see hit_test)
MIN_SIZE = 1  # a handle drag never makes the selection thinner than this (it cannot vanish by resizing)
HANDLES = ("nw", "n", "ne", "e", "se", "s", "sw", "w")
# the Tk cursor that says what a press there does (X11 cursor-font names, also valid on Windows/macOS Tk)
HANDLE_CURSORS = {"nw": "top_left_corner", "ne": "top_right_corner", "se": "bottom_right_corner",
                  "sw": "bottom_left_corner", "n": "top_side", "s": "bottom_side", "e": "right_side",
                  "w": "left_side", "move": "fleur", None: "crosshair"}
_FLIP = {"n": "s", "s": "n", "e": "w", "w": "e"}


@dataclass
class SelectionModel:
    """Selection geometry in overlay (logical) pixels on a ``width`` x ``height`` overlay. Not thread-safe."""

    width: int
    height: int
    monitors: Sequence[Rect] = ()  # monitor rectangles in overlay pixels
    rect: Rect | None = None
    _anchor: tuple[int, int] | None = None
    _move_from: tuple[int, int] | None = None
    _move_rect: Rect | None = None
    _handle: str | None = None  # the handle being dragged (as pressed; see active_handle)
    min_size: int = MIN_SIZE

    # -- mouse ----------------------------------------------------------------------------------------------
    def press(self, x: int, y: int) -> str:
        """Mouse down. On a handle of a non-empty selection: start resizing from it (returns the handle's name,
        e.g. "se"); inside it: start moving it ("move"); elsewhere: start a new one ("new")."""
        x, y = self.clamp(x, y)
        hit = self.hit_test(x, y)
        if hit is not None:
            self._move_from, self._move_rect, self._anchor = (x, y), self.rect, None
            self._handle = None if hit == "move" else hit
            return hit
        self._anchor, self._move_from, self._handle = (x, y), None, None
        self.rect = (x, y, x, y)
        return "new"

    def hit_test(self, x: int, y: int, tolerance: int = HANDLE_TOLERANCE) -> str | None:
        """What a press at (x, y) grabs: a handle name (``HANDLES``; near a corner = the corner, near an edge =
        that edge's handle, within ``tolerance`` px either side of it), "move" inside the selection, or None
        (a new selection). On a small selection the grab zone shrinks to a third of its side, so its middle still
        moves it."""
        if self.rect is None or self.is_empty:
            return None
        l, t, r, b = self.rect
        tx, ty = max(1, min(tolerance, (r - l) // 3)), max(1, min(tolerance, (b - t) // 3))
        if not (l - tx <= x <= r + tx and t - ty <= y <= b + ty):
            return None
        vert = _nearer("n", abs(y - t), "s", abs(y - b), ty)
        horiz = _nearer("w", abs(x - l), "e", abs(x - r), tx)
        if vert or horiz:
            return vert + horiz
        return "move" if self.contains(x, y) else None

    def handle_points(self) -> dict[str, tuple[int, int]]:
        """Where the 8 handles are drawn (corners and edge midpoints), none when nothing is selected."""
        if self.rect is None or self.is_empty:
            return {}
        l, t, r, b = self.rect
        mx, my = (l + r) // 2, (t + b) // 2
        return {"nw": (l, t), "n": (mx, t), "ne": (r, t), "e": (r, my), "se": (r, b), "s": (mx, b),
                "sw": (l, b), "w": (l, my)}

    @property
    def active_handle(self) -> str | None:
        """The handle being dragged, flipped when the drag crossed the opposite edge (the "nw" handle dragged
        past the right and bottom edges is now the "se" one): what the cursor shape should say."""
        if self._handle is None or self.rect is None or self._move_rect is None:
            return self._handle
        l0, t0, r0, b0 = self._move_rect
        l, t, r, b = self.rect
        flipped = ("n" in self._handle and t >= b0) or ("s" in self._handle and b <= t0)
        v = "".join(_FLIP[c] if flipped else c for c in self._handle if c in "ns")
        flipped = ("w" in self._handle and l >= r0) or ("e" in self._handle and r <= l0)
        h = "".join(_FLIP[c] if flipped else c for c in self._handle if c in "we")
        return v + h

    @property
    def grab(self) -> str | None:
        """What the drag under way does: "new", "move", a handle (:attr:`active_handle`), or None (no drag)."""
        if self._anchor is not None:
            return "new"
        if self._move_from is None:
            return None
        return self.active_handle or "move"

    def cursor_at(self, x: int, y: int) -> str:
        """The Tk cursor for the pointer at (x, y): during a drag what it does, else what a press there would do
        (a handle's arrow, "fleur" inside the selection, the crosshair elsewhere)."""
        grab = self.grab
        if grab is None:
            return HANDLE_CURSORS[self.hit_test(x, y)]
        return HANDLE_CURSORS[None if grab == "new" else grab]

    def drag(self, x: int, y: int) -> None:
        x, y = self.clamp(x, y)
        if self._handle is not None and self._move_from is not None and self._move_rect is not None:
            self.rect = self._resized(self._handle, x - self._move_from[0], y - self._move_from[1])
        elif self._anchor is not None:
            ax, ay = self._anchor
            self.rect = (min(ax, x), min(ay, y), max(ax, x), max(ay, y))
        elif self._move_from is not None and self._move_rect is not None:
            l, t, r, b = self._move_rect
            dx = max(-l, min(self.width - r, x - self._move_from[0]))
            dy = max(-t, min(self.height - b, y - self._move_from[1]))
            self.rect = (l + dx, t + dy, r + dx, b + dy)

    def _resized(self, handle: str, dx: int, dy: int) -> Rect:
        """The pressed rectangle with the handle's edges moved by (dx, dy): on the overlay, at least
        ``min_size`` thick, normalised when an edge crossed the opposite one."""
        assert self._move_rect is not None
        l, t, r, b = self._move_rect
        if "w" in handle:
            l, r = _edge(l + dx, r, -1, self.width, self.min_size)
        elif "e" in handle:
            l, r = _edge(r + dx, l, 1, self.width, self.min_size)
        if "n" in handle:
            t, b = _edge(t + dy, b, -1, self.height, self.min_size)
        elif "s" in handle:
            t, b = _edge(b + dy, t, 1, self.height, self.min_size)
        return (l, t, r, b)

    def release(self, x: int, y: int) -> None:
        self.drag(x, y)
        self._anchor = self._move_from = self._move_rect = self._handle = None

    @property
    def dragging(self) -> bool:
        return self._anchor is not None or self._move_from is not None

    # -- keyboard -------------------------------------------------------------------------------------------
    def nudge(self, dx: int, dy: int) -> None:
        """Move the selection by (dx, dy), kept on the overlay."""
        if self.rect is None:
            return
        l, t, r, b = self.rect
        dx = max(-l, min(self.width - r, dx))
        dy = max(-t, min(self.height - b, dy))
        self.rect = (l + dx, t + dy, r + dx, b + dy)

    def resize(self, dw: int, dh: int) -> None:
        """Grow/shrink from the bottom-right corner (Shift+arrows); never below zero or past the overlay."""
        if self.rect is None:
            return
        l, t, r, b = self.rect
        self.rect = (l, t, max(l, min(self.width, r + dw)), max(t, min(self.height, b + dh)))

    def monitor_at(self, x: int, y: int) -> Rect | None:
        for m in self.monitors:
            if m[0] <= x < m[2] and m[1] <= y < m[3]:
                return m
        return None

    def select_monitor_at(self, x: int, y: int) -> bool:
        """Select the whole monitor under (x, y) (Space). False when the point is on no monitor."""
        m = self.monitor_at(x, y)
        if m is None:
            return False
        l, t = self.clamp(m[0], m[1])
        r, b = self.clamp(m[2], m[3])
        self.rect = (l, t, r, b)
        self._anchor = self._move_from = self._move_rect = self._handle = None
        return True

    # -- queries --------------------------------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        if self.rect is None:
            return (0, 0)
        l, t, r, b = self.rect
        return (r - l, b - t)

    @property
    def is_empty(self) -> bool:
        w, h = self.size
        return w <= 0 or h <= 0

    def contains(self, x: int, y: int) -> bool:
        if self.rect is None:
            return False
        l, t, r, b = self.rect
        return l <= x < r and t <= y < b

    def to_region(self, origin: tuple[int, int], scale: float) -> Region | None:
        """The selection in physical virtual-screen pixels, or None when empty."""
        if self.rect is None or self.is_empty:
            return None
        l, t, r, b = (round(v * scale) for v in self.rect)
        return Region(origin[0] + l, origin[1] + t, r - l, b - t)

    def clamp(self, x: int, y: int) -> tuple[int, int]:
        """``(x, y)`` moved onto the overlay (edges included: a rectangle may end there)."""
        return (max(0, min(self.width, int(x))), max(0, min(self.height, int(y))))


def _nearer(low: str, d_low: int, high: str, d_high: int, tolerance: int) -> str:
    """``low``/``high`` for the nearer of two edges within ``tolerance`` (a tie goes to ``high``), else ""."""
    if min(d_low, d_high) > tolerance:
        return ""
    return low if d_low < d_high else high


def _edge(moving: int, fixed: int, side: int, limit: int, min_size: int) -> tuple[int, int]:
    """One axis of a handle drag: the moving edge (``side`` -1 = it starts before the fixed one, +1 = after)
    kept on [0, limit] and at least ``min_size`` from the fixed edge; returns (low, high) -- normalised, so a
    drag across the fixed edge flips the selection instead of making it negative."""
    moving = max(0, min(limit, moving))
    d = moving - fixed
    if abs(d) < min_size:
        s = side if d == 0 else (1 if d > 0 else -1)
        moving = fixed + s * min_size
        if not 0 <= moving <= limit:
            moving = fixed - s * min_size
        moving = max(0, min(limit, moving))
    return (min(moving, fixed), max(moving, fixed))


@dataclass(frozen=True)
class SelectorImages:
    """The overlay's pixels, prepared by :meth:`prepare` (pure Pillow: may run on the capture thread, off the Tk
    thread, so the overlay maps sooner). ``bright`` and ``dimmed`` are in overlay (logical) pixels."""

    frozen: Image.Image
    bright: Image.Image
    dimmed: Image.Image

    @classmethod
    def prepare(cls, frozen: Image.Image, scale: float = 1.0) -> "SelectorImages":
        frozen = frozen.convert("RGB") if frozen.mode != "RGB" else frozen
        scale = scale if scale > 0 else 1.0
        size = (max(1, round(frozen.width / scale)), max(1, round(frozen.height / scale)))
        bright = frozen if size == frozen.size else frozen.resize(size, Image.Resampling.LANCZOS)
        lut = [int(v * DIM_FACTOR) for v in range(256)] * 3
        return cls(frozen, bright, bright.point(lut))


def crop_to_region(frozen: Image.Image, region: Region, origin: tuple[int, int] = (0, 0)) -> Image.Image:
    """The pixels of ``region`` (physical virtual-screen pixels) out of the frozen screenshot taken at ``origin``:
    exactly what the user saw while selecting (no second grab, so no overlay and no changed content)."""
    l, t = region.left - origin[0], region.top - origin[1]
    if l < 0 or t < 0 or l + region.width > frozen.width or t + region.height > frozen.height:
        raise ValueError(f"{region} lies outside the frozen screenshot ({frozen.size} at {origin})")
    return frozen.crop((l, t, l + region.width, t + region.height))


def monitors_to_overlay(monitors: Sequence[Monitor], origin: tuple[int, int], scale: float) -> list[Rect]:
    """Physical monitor regions -> overlay rectangles (logical pixels relative to the frozen image)."""
    out: list[Rect] = []
    for m in monitors:
        r = m.region
        out.append((round((r.left - origin[0]) / scale), round((r.top - origin[1]) / scale),
                    round((r.right - origin[0]) / scale), round((r.bottom - origin[1]) / scale)))
    return out
