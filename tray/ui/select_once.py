"""The region selector for a command-line run (``snaplark ocr``): freeze the screen,
show :class:`tray.ui.selector.RegionSelector` on a fresh Tk root, return the chosen pixels.

Runs on the calling (main) thread, which becomes the Tk thread until the user confirms or cancels.
"""

from __future__ import annotations

from typing import Any

from tray_platform.base import Region


def select_region() -> tuple[Region, Any] | None:
    """``(region, image)`` the user selected -- the image cropped from the frozen screen, exactly what they saw --
    or None when cancelled (Esc, right click). Raises the capture's errors (no display)."""
    import tkinter as tk

    from tray.capture.backends import default_display_info
    from tray.capture.screenshot import capture_image
    from tray.ui.selector import RegionSelector, crop_to_region

    display = default_display_info()
    screen = display.virtual_screen()
    frozen = capture_image(None, display_info=display, cursor=False)
    root = tk.Tk()
    root.withdraw()
    chosen: dict[str, Region | None] = {}

    def done(region: Region | None) -> None:
        chosen["region"] = region
        root.quit()

    try:
        RegionSelector(root, frozen, (screen.left, screen.top), done, monitors=display.monitors(),
                       clipboard=_clipboard(root))
        root.mainloop()
    finally:
        root.destroy()
    region = chosen.get("region")
    if region is None:
        return None
    return region, crop_to_region(frozen, region, (screen.left, screen.top))


def _clipboard(root: Any) -> Any:
    """The platform clipboard (the selector's C copies a colour), or None when there is none."""
    try:
        from tray_platform.base import choose_backend

        return choose_backend("clipboard", env_var="SNAPLARK_CLIPBOARD", root=root).backend
    except Exception:  # noqa: BLE001 - the selector works without; C says so
        return None
