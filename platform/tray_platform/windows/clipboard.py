"""Windows clipboard through the Win32 API (ctypes): CF_UNICODETEXT for text; for images both the registered
"PNG" format (keeps alpha; Office, browsers) and CF_DIB (everything else).
Threading: the Win32 clipboard is opened and closed inside each call; callable from any thread."""

from __future__ import annotations

import io
import time
from typing import Any

CF_UNICODETEXT = 13
CF_DIB = 8
GMEM_MOVEABLE = 0x0002


class ClipboardError(RuntimeError):
    pass


def png_to_dib(png: bytes) -> bytes:
    """PNG -> packed DIB (BITMAPINFOHEADER + bottom-up BGR(A) rows), the CF_DIB payload."""
    from PIL import Image

    img = Image.open(io.BytesIO(png))
    img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    buf = io.BytesIO()
    img.save(buf, format="BMP")
    return buf.getvalue()[14:]  # drop the 14-byte BITMAPFILEHEADER


class WindowsClipboard:  # pragma: no cover - needs Windows
    name = "windows"

    def __init__(self, *, retries: int = 10, retry_delay: float = 0.02, **_: Any) -> None:
        import ctypes
        from ctypes import wintypes

        self.ctypes = ctypes
        self.user32 = ctypes.WinDLL("user32", use_last_error=True)
        self.kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        self.kernel32.GlobalAlloc.restype = wintypes.HGLOBAL
        self.kernel32.GlobalAlloc.argtypes = [wintypes.UINT, ctypes.c_size_t]
        self.kernel32.GlobalLock.restype = wintypes.LPVOID
        self.kernel32.GlobalLock.argtypes = [wintypes.HGLOBAL]
        self.kernel32.GlobalUnlock.argtypes = [wintypes.HGLOBAL]
        self.user32.SetClipboardData.restype = wintypes.HANDLE
        self.user32.SetClipboardData.argtypes = [wintypes.UINT, wintypes.HANDLE]
        self.user32.OpenClipboard.argtypes = [wintypes.HWND]
        self.user32.RegisterClipboardFormatW.argtypes = [wintypes.LPCWSTR]
        self.retries = retries
        self.retry_delay = retry_delay

    def _open(self) -> None:
        for _ in range(self.retries):  # another app may hold the clipboard for a moment
            if self.user32.OpenClipboard(None):
                return
            time.sleep(self.retry_delay)
        raise ClipboardError("could not open the clipboard (held by another application)")

    def _put(self, fmt: int, data: bytes) -> None:
        handle = self.kernel32.GlobalAlloc(GMEM_MOVEABLE, len(data))
        if not handle:
            raise ClipboardError("GlobalAlloc failed")
        ptr = self.kernel32.GlobalLock(handle)
        self.ctypes.memmove(ptr, data, len(data))
        self.kernel32.GlobalUnlock(handle)
        if not self.user32.SetClipboardData(fmt, handle):
            raise ClipboardError(f"SetClipboardData({fmt}) failed: {self.ctypes.get_last_error()}")

    def _set(self, items: list[tuple[int, bytes]]) -> None:
        self._open()
        try:
            self.user32.EmptyClipboard()
            for fmt, data in items:
                self._put(fmt, data)
        finally:
            self.user32.CloseClipboard()

    def copy_text(self, text: str) -> None:
        self._set([(CF_UNICODETEXT, (text + "\0").encode("utf-16-le"))])

    def copy_image_png(self, png: bytes) -> None:
        png_format = self.user32.RegisterClipboardFormatW("PNG")
        self._set([(png_format, png), (CF_DIB, png_to_dib(png))])


def create(*, in_process: bool = False, **kwargs: Any) -> WindowsClipboard:
    """``in_process`` (the tray app asks for its own copies to be served in-process) changes nothing here: the
    OS clipboard keeps what is copied after this process ends."""
    return WindowsClipboard(**kwargs)
