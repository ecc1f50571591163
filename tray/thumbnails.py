"""Small pictures of captures for the History window, made locally and kept in the cache dir.

:class:`ThumbnailCache` turns a screenshot (the PNG) or a recording (its first video frame, decoded with PyAV) into a
PNG of :data:`THUMB_SIZE` (the picture scaled to fit, centred), stored under ``<cache dir>/thumbnails/`` with a name derived from the file's path,
size and modification time (a changed file gets a new thumbnail; old ones are only disk space). Nothing here uses Tk.

:class:`ThumbnailLoader` makes them on one background thread, the most recently asked first, and hands each result
to a callback through ``post`` (the UI's route into its Tk thread): the Tk side then loads the small PNG file.

Threading: :class:`ThumbnailCache` is stateless apart from its directory (any thread; two threads making the same
thumbnail both write it atomically). :class:`ThumbnailLoader`: ``want``/``stop`` from any thread; its callbacks run
wherever ``post`` runs them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

THUMB_SIZE = (96, 64)
VIDEO_SUFFIXES = {".webm", ".mp4", ".mkv", ".mov"}


class ThumbnailCache:
    def __init__(self, folder: Path, size: tuple[int, int] = THUMB_SIZE):
        self.folder = Path(folder)
        self.size = size

    @classmethod
    def default(cls) -> "ThumbnailCache":
        from tray import paths

        return cls(paths.cache_dir() / "thumbnails")

    def path_for(self, source: Path) -> Path | None:
        """Where the thumbnail of ``source`` is (or would be) cached; None when ``source`` is missing."""
        try:
            st = os.stat(source)
        except OSError:
            return None
        key = f"{os.path.abspath(source)}|{st.st_size}|{st.st_mtime_ns}|{self.size[0]}x{self.size[1]}"
        return self.folder / (hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32] + ".png")

    def get(self, source: Path) -> Path | None:
        """The cached thumbnail of ``source``, made now if needed (slow: call it off the UI thread). None when the
        file is gone or holds no picture."""
        target = self.path_for(source)
        if target is None:
            return None
        if target.exists():
            return target
        try:
            image = picture_of(Path(source))
        except Exception as exc:  # noqa: BLE001 - a damaged or half-written capture just has no thumbnail
            log.info("no thumbnail for %s: %s", source, exc)
            return None
        if image is None:
            return None
        image = framed(image, self.size)
        from tray import paths

        paths.ensure_private_dir(self.folder)
        fd, tmp = tempfile.mkstemp(prefix=".thumb-", suffix=".png", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                image.save(fh, "PNG")
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return target


def picture_of(source: Path) -> Any:
    """A PIL image of ``source``: the image itself, or a video's first frame; None for anything else."""
    from PIL import Image

    if source.suffix.lower() in VIDEO_SUFFIXES:
        import av

        with av.open(str(source)) as container:
            if not container.streams.video:
                return None
            for frame in container.decode(video=0):
                return frame.to_image()
        return None
    with Image.open(source) as img:
        img.load()
        return img.copy()


def framed(image: Any, size: tuple[int, int], background: tuple[int, int, int] = (236, 236, 236)) -> Any:
    """``image`` scaled to fit ``size`` and centred on a ``background`` frame of exactly ``size`` (rows line up)."""
    from PIL import Image

    image = image.convert("RGB")
    image.thumbnail(size)
    frame = Image.new("RGB", size, background)
    frame.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return frame


class ThumbnailLoader:
    """One worker thread (started on the first request) making thumbnails, newest request first.

    ``want(requests)`` replaces what is pending with ``requests``: ``(key, source)`` pairs, most urgent last (the
    rows on screen now). For each, ``on_ready(key, thumbnail_path_or_None)`` is posted with ``post``.
    """

    def __init__(self, cache: ThumbnailCache, post: Callable[[Callable[[], None]], Any],
                 on_ready: Callable[[Any, Path | None], None]):
        self.cache = cache
        self._post = post
        self._on_ready = on_ready
        self._cond = threading.Condition()
        self._pending: dict[Any, Path] = {}
        self._stopping = False
        self._thread: threading.Thread | None = None

    def want(self, requests: list[tuple[Any, Path]]) -> None:
        with self._cond:
            if self._stopping:
                return
            self._pending = dict(requests)
            if self._thread is None and self._pending:
                self._thread = threading.Thread(target=self._run, name="thumbnails", daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait(1.0)
                if self._stopping:
                    return
                key, source = self._pending.popitem()  # the last asked: the rows on screen now
            try:
                thumb = self.cache.get(source)
            except Exception:  # noqa: BLE001 - a cache dir that cannot be written: no thumbnail, logged
                log.exception("thumbnail of %s failed", source)
                thumb = None
            self._post(lambda key=key, thumb=thumb: self._on_ready(key, thumb))
