"""GIF recordings from the tray (``capture.format = "gif"``): the recorder writes the normal WebM spool with nothing
streamed to the server; when it stops, the spool becomes an animated GIF (:mod:`tray.capture.gif`, on a worker
thread: a minute of video takes a few seconds), the spool is removed, and the GIF is uploaded like a screenshot
(``image/gif``) with its link put on the clipboard -- or, without auto upload, kept and named.

GIFs are limited to :data:`~tray.capture.gif.GIF_MAX_SECONDS`: the recorder stops there by itself (a shorter
``capture.max_duration`` still applies), the user is told when the recording starts (:func:`limit_notice`) and when
it stopped at the limit. A failed conversion keeps the WebM and names it; nothing is lost.

Threading: :class:`GifFinisher` is created and called on the Tk thread; the conversion runs on its own thread and
comes back with ``ctx.post``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)


def limit_notice(max_duration: float) -> str:
    """What the user is told when a GIF recording starts."""
    from tray.capture.gif import GIF_MAX_SECONDS

    if max_duration < GIF_MAX_SECONDS:
        return f"Recording a GIF: it stops at {max_duration:g} s (capture.max_duration)"
    return f"Recording a GIF: it stops by itself at {GIF_MAX_SECONDS} s, the limit for GIF clips"


class GifFinisher:
    """``upload(path)`` queues the GIF (the screenshot path: returns the upload to wait for, or None without auto
    upload); ``await_url(upload)`` puts its link on the clipboard when it arrives; ``history`` (the tray's
    UploadHistory) records the GIF first, so History shows it as a GIF, uploaded or not."""

    def __init__(self, ctx: Any, upload: Callable[[Path], Any] | None, await_url: Callable[[Any], None],
                 history: Any = None) -> None:
        self._ctx, self._upload, self._await_url = ctx, upload, await_url
        self._history = history  # UploadHistory: the GIF is recorded in the journal (History lists it, kind "gif")

    def finish(self, result: Any, spool: Path) -> threading.Thread:
        """After the recorder stopped (``result``: its RecordingResult, None when it never wrote a file)."""
        gif_path = spool.with_suffix(".gif")

        def work() -> None:
            from tray.capture.gif import GIF_MAX_SECONDS, convert_to_gif, stopped_at_limit

            try:
                gif = convert_to_gif(spool, gif_path, duration=result.duration if result is not None else None)
            except Exception as exc:  # noqa: BLE001 - too long, unreadable: the spool stays, named
                log.warning("GIF conversion of %s failed: %s", spool, exc)
                text = f"{exc}. The recording is kept at {spool}"
                self._ctx.post(lambda: self._ctx.notify_error("Could not make the GIF", text))
                return
            spool.unlink(missing_ok=True)
            if self._history is not None:
                try:
                    self._history.record_saved("gif", gif.path, duration=gif.duration)
                except Exception as exc:  # noqa: BLE001 - the GIF is written; History only misses its kind
                    log.warning("could not record %s in the journal: %s", gif.path, exc)
            limit = (f"Stopped at the GIF limit of {GIF_MAX_SECONDS} s. "
                     if result is not None and stopped_at_limit(result.duration) else "")
            log.info("%s: %s", gif.describe(), gif.path)
            self._ctx.post(lambda: self._converted(gif.path, limit + gif.describe()))

        thread = threading.Thread(target=work, name="gif-convert", daemon=True)
        thread.start()
        return thread

    def _converted(self, path: Path, description: str) -> None:
        if self._upload is None:
            self._ctx.notifier.notify("GIF saved", f"{description}\n{path}")
            return
        upload = self._upload(path)
        log.info("GIF %s queued for upload (%s)", path, description)
        if description.startswith("Stopped at"):  # the upload's own notifications follow with the link
            self._ctx.confirm("GIF recording", description)
        self._await_url(upload)
