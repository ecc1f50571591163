"""Wayland screenshots through ``org.freedesktop.portal.Screenshot`` (the only way an unprivileged Wayland client
may read other clients' pixels).

``PortalScreenshot.take()`` asks the portal for a non-interactive screenshot of the whole desktop (``interactive``
false: no dialog where the portal honours it -- wlroots' portal always does, GNOME asks once per app and remembers),
reads the file the returned ``uri`` names and gives a Pillow RGB image. Snaplark's own region selector then works on
that image exactly as on X11's frozen screenshot. The file is the portal's: xdg-desktop-portal-wlr 0.7 writes every
screenshot to the same ``/tmp/out.png`` (via grim), so it is read at once, fully, into memory.

``WaylandScreenCapture`` is the ``ScreenCapture`` adapter over it: each ``grab(region)`` is one portal screenshot
cropped to the region (origin = the virtual screen's top-left, as the portal's image). Fine for still captures;
recording uses the ScreenCast portal instead (:mod:`tray_platform.linux.screencast`).

Threading: one instance per thread (each holds one D-Bus connection, opened on first use).
"""

from __future__ import annotations

import io
import logging
import os
from typing import Any
from urllib.parse import unquote, urlparse

from tray_platform.base import NoDisplayError, Region
from tray_platform.linux.portal import PortalConnection, PortalError, PortalUnavailable

log = logging.getLogger(__name__)

SCREENSHOT_INTERFACE = "org.freedesktop.portal.Screenshot"
MAX_FILE_BYTES = 512 * 1024 * 1024


class ScreenshotFailed(NoDisplayError):
    """The Screenshot portal is missing, refused, or handed back something that is not a readable image."""


def path_from_uri(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise ScreenshotFailed(f"the screenshot portal returned a non-file URI: {uri!r}")
    return unquote(parsed.path)


class PortalScreenshot:
    def __init__(self, *, portal: PortalConnection | None = None, interactive: bool = False) -> None:
        self._portal = portal
        self._own_portal = portal is None
        self.interactive = interactive

    def _connection(self) -> PortalConnection:
        if self._portal is None:
            self._portal = PortalConnection()
        return self._portal

    def available(self) -> tuple[bool, str]:
        try:
            version = self._connection().version(SCREENSHOT_INTERFACE)
        except PortalError as exc:
            return False, str(exc)
        if version is None:
            return False, ("the desktop portal has no Screenshot interface (install xdg-desktop-portal and your "
                           "desktop's backend: -gnome, -kde, -wlr or -hyprland; -wlr also needs -gtk for Access)")
        return True, f"Screenshot portal version {version}"

    def take_png(self) -> bytes:
        """The whole desktop as the portal's PNG bytes."""
        portal = self._connection()
        try:
            results = portal.request(SCREENSHOT_INTERFACE, "Screenshot", "sa{sv}",
                                     ("", {"interactive": ("b", self.interactive)}))
        except PortalUnavailable as exc:
            raise ScreenshotFailed(f"no Screenshot portal: {exc}") from exc
        except PortalError as exc:
            raise ScreenshotFailed(f"the Screenshot portal did not deliver: {exc}") from exc
        uri = results.get("uri")
        if not uri:
            raise ScreenshotFailed(f"the Screenshot portal answered without a uri: {results!r}")
        path = path_from_uri(uri)
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ScreenshotFailed(f"cannot read the portal's screenshot {path}: {exc}") from exc
        if len(data) > MAX_FILE_BYTES:
            raise ScreenshotFailed(f"the portal's screenshot {path} is larger than {MAX_FILE_BYTES} bytes")
        self._discard(path)
        return data

    def take(self) -> Any:
        """The whole desktop as a Pillow RGB image."""
        from PIL import Image, UnidentifiedImageError

        data = self.take_png()
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise ScreenshotFailed(f"the portal's screenshot is not a readable image: {exc}") from exc
        return image.convert("RGB")

    @staticmethod
    def _discard(path: str) -> None:
        """Screenshots the portal saved in the user's Pictures folder (GNOME, KDE do) are left alone; only a file the
        portal put in a temp dir for us is removed, when we may."""
        tmp = os.path.realpath(os.environ.get("TMPDIR", "/tmp"))
        if os.path.realpath(os.path.dirname(path)) != tmp:
            return
        try:
            os.unlink(path)
        except OSError:
            pass  # another user's file (e.g. the portal runs as someone else): not ours to remove

    def close(self) -> None:
        if self._own_portal and self._portal is not None:
            self._portal.close()
            self._portal = None


class WaylandScreenCapture:
    """``ScreenCapture`` over the Screenshot portal: each grab is one portal screenshot cropped to ``region``
    (virtual-screen pixels). ``with_cursor`` is accepted for the Protocol's sake: the portal decides (wlr: no
    cursor). One instance per thread."""

    def __init__(self, *, with_cursor: bool = False, screenshot: PortalScreenshot | None = None,
                 display_info: Any = None) -> None:
        self._shot = screenshot or PortalScreenshot()
        self._display_info = display_info
        self.with_cursor = with_cursor

    def _origin(self) -> tuple[int, int]:
        if self._display_info is None:
            from tray_platform.linux.wayland_display import WaylandDisplayInfo

            self._display_info = WaylandDisplayInfo()
        try:
            screen = self._display_info.virtual_screen()
        except NoDisplayError as exc:
            log.debug("no monitor layout (%s); assuming the image starts at 0,0", exc)
            return 0, 0
        return screen.left, screen.top

    def grab(self, region: Region) -> tuple[int, int, bytes]:
        image = self._shot.take()
        ox, oy = self._origin()
        box = (region.left - ox, region.top - oy, region.right - ox, region.bottom - oy)
        if box[0] < 0 or box[1] < 0 or box[2] > image.width or box[3] > image.height:
            raise ScreenshotFailed(f"region {region} is outside the portal's {image.width}x{image.height} image")
        crop = image.crop(box)
        return crop.width, crop.height, crop.tobytes("raw", "BGRX")

    def close(self) -> None:
        self._shot.close()


def create(**kwargs: Any) -> WaylandScreenCapture:
    return WaylandScreenCapture(**kwargs)
