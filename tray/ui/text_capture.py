""""Copy text" from the tray: select a region (the selector over the frozen screen), read its text on this machine
(:mod:`tray.ocr`, nothing uploaded), copy it to the clipboard and say so briefly.

The OCR runs on a short-lived thread ("ocr"), one at a time, so the Tk thread stays responsive (a 1080p region
takes ~2 s); the text comes back through the dispatcher. The Tesseract instance is created on that thread, used
there and closed there.

Threading: :meth:`TextCapture.start` on the Tk thread; the worker only posts.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

PREVIEW_CHARS = 80


class TextCapture:
    def __init__(self, ctx: Any, captures: Any, *, reader_factory: Callable[[], Any] | None = None) -> None:
        self.ctx = ctx
        self.captures = captures
        self._reader_factory = reader_factory
        self._worker: threading.Thread | None = None
        self.last_text: str | None = None  # what was copied last (tests and logs)

    @property
    def busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def start(self) -> None:
        """Open the selector; the chosen region's text goes to the clipboard."""
        if self.busy or self.captures.busy:
            return
        from tray.ui.selector import crop_to_region

        self.captures.select(lambda region, frozen, screen: self._read(
            crop_to_region(frozen, region, (screen.left, screen.top))))

    def _read(self, image: Any) -> None:
        def work() -> None:
            try:
                reader = self._make_reader()
                try:
                    text = reader.read(image)
                finally:
                    reader.close()
            except Exception as exc:  # noqa: BLE001 - engine missing or failing: tell the user on the Tk thread
                log.warning("OCR failed: %s", exc)
                reason = str(exc)  # (``exc`` is unbound once the except block ends, before the Tk thread runs this)
                self.ctx.post(lambda: self.ctx.notify_error("Could not read text", reason))
                return
            self.ctx.post(lambda: self._copy(text, image.size))

        self._worker = threading.Thread(target=work, name="ocr", daemon=True)
        self._worker.start()

    def _make_reader(self) -> Any:
        if self._reader_factory is not None:
            return self._reader_factory()
        from tray.ocr import TextReader

        return TextReader()

    def _copy(self, text: str, size: tuple[int, int]) -> None:
        if not text.strip():
            self.ctx.notify_warning("No text found", f"Nothing readable in the {size[0]}x{size[1]} region.")
            return
        if self.ctx.clipboard is None:
            self.ctx.notify_error("No clipboard", text[:PREVIEW_CHARS])
            return
        try:
            self.ctx.clipboard.copy_text(text)
        except Exception as exc:  # noqa: BLE001
            self.ctx.notify_error("Could not copy the text", str(exc))
            return
        self.last_text = text
        log.info("copied %d characters of text from a %dx%d region", len(text), *size)
        preview = " ".join(text.split())
        self.ctx.confirm("Text copied", preview if len(preview) <= PREVIEW_CHARS else preview[:PREVIEW_CHARS - 1] + "\u2026")
