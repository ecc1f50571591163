"""What the History window's buttons do with one capture (:class:`~tray.ui.history_model.HistoryItem`): copy or open
its link, open the file or show it selected in its folder, retry a failed upload (or, now, one waiting for an
unreachable server), upload it again to the current server, save a recording as GIF beside it (the journal records
the GIF: its own row from then on), delete the local file (after asking), delete the link on the server (``DELETE
/objects/<id>`` as ``snaplark delete`` does; a server without that extension is named as such). A deleted link is
recorded in the journal (:func:`delete_on_server`): the row then says "link deleted", its link can no longer be
copied or opened, and the file can still be uploaded again.

Threading: every method is called on the Tk thread. Uploading (which may first wake the server: seconds) runs on a
short-lived thread; its outcome comes back through ``ctx.post``. Deleting a file is one ``unlink`` on the Tk thread.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable

from tray.ui.context import TrayContext
from tray.ui.history_model import DELETED, EXPIRED, HistoryItem

log = logging.getLogger(__name__)

SERVER_DELETE_MISSING = "Deleting a link needs a connection to the server that made it"
DELETE_LINK_TITLE = "Delete link?"


def delete_link_question(url: str) -> str:
    """What the user confirms before a link is deleted (the History window and the tray's Recent uploads)."""
    return f"Delete {url} on the server? The link stops working."


class HistoryActions:
    """``engine()``: the upload engine to use (may block: it is called off the Tk thread). ``confirm(title, text)``:
    ask the user (True = go ahead). ``delete_link(item)``: removes the link on the server (blocking; called off the
    Tk thread), or None where that is not possible. ``changed()``: the list must be read again (Tk thread)."""

    def __init__(self, ctx: TrayContext, *, engine: Callable[[], Any], confirm: Callable[[str, str], bool],
                 changed: Callable[[], None], say: Callable[[str], None],
                 delete_link: Callable[[HistoryItem], None] | None = None,
                 on_upload: Callable[[Any], None] | None = None, record_saved: Callable[..., Any] | None = None):
        self.ctx = ctx
        self._engine = engine
        self._confirm = confirm
        self._changed = changed
        self._say = say
        self.delete_link = delete_link
        self._on_upload = on_upload  # e.g. the tray's RecentUploads.await_url: the new link to the clipboard
        self._record_saved = record_saved  # UploadHistory.record_saved: a saved GIF into the journal (any thread)

    # ------------------------------------------------------------------ what is possible
    def enabled(self, item: HistoryItem | None) -> dict[str, bool]:
        exists = item is not None and item.path.exists()
        return {
            "copy_link": item is not None and item.has_link,
            "open_link": item is not None and item.has_link,
            "open_file": exists,
            "show_folder": item is not None and item.path.parent.is_dir(),
            "retry": item is not None and item.retryable and exists,
            "reupload": exists and item is not None and item.status != "uploading",
            "delete_link": item is not None and item.has_link and self.delete_link is not None,
            "delete_file": exists,
            "save_gif": exists and item is not None and item.kind == "video",
        }

    # ------------------------------------------------------------------ the actions
    def copy_link(self, item: HistoryItem) -> None:
        if item.url:
            self.ctx.copy_link(item.url, confirm=False)
            self._say(f"Link copied: {item.url}")

    def open_link(self, item: HistoryItem) -> None:
        if item.url:
            from tray.ui.opener import open_path

            open_path(self.ctx, item.url)  # type: ignore[arg-type] - xdg-open/open/explorer take URLs too

    def open_file(self, item: HistoryItem) -> None:
        from tray.ui.opener import open_path

        open_path(self.ctx, item.path)

    def show_folder(self, item: HistoryItem) -> None:
        """The file selected in the file manager (its folder alone when there is no file manager to ask)."""
        from tray.ui.opener import show_in_folder

        show_in_folder(self.ctx, item.path)

    def retry(self, item: HistoryItem) -> None:
        """A failed upload starts again; one waiting for an unreachable server tries it now (the server may be
        back: no need to wait for the engine's next probe, up to a backoff away)."""
        sid = item.session_id

        def start(engine: Any) -> Any:
            running = engine.get(sid) if item.offline else None
            if running is None:
                return engine.retry(sid)
            engine.network_changed()
            return running

        self._upload(f"Retrying {item.name}…", start)

    def reupload(self, item: HistoryItem) -> None:
        path = item.path
        self._upload(f"Uploading {item.name} again…", lambda engine: engine.upload_file(path))

    def delete_file(self, item: HistoryItem) -> bool:
        """Ask, then remove the local file (the journal row and any link stay). True when it was deleted."""
        if not self._confirm("Delete file?", f"Delete {item.path} from this computer?\n"
                                             + ("The link keeps working." if item.has_link else
                                                "Its link was deleted: it will be gone for good."
                                                if item.status == DELETED else
                                                "Its link has expired: it will be gone for good."
                                                if item.status == EXPIRED else
                                                "It was never uploaded: it will be gone for good.")):
            return False
        try:
            os.unlink(item.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self._say(f"Could not delete {item.path}: {exc}")
            return False
        log.info("deleted local file %s", item.path)
        self._say(f"Deleted {item.path}")
        self._changed()
        return True

    def save_gif(self, item: HistoryItem) -> None:
        """"Save as GIF": the recording as ``NAME.gif`` beside it (never over an existing file), converted off the
        Tk thread (:func:`tray.capture.gif.save_gif`); a recording over the GIF limit is refused, saying so."""
        from tray.capture.gif import GIF_MAX_SECONDS, GifTooLong, free_gif_path, save_gif

        src = item.path

        def work() -> str:
            try:
                gif = save_gif(src, free_gif_path(src))
            except GifTooLong as exc:
                raise RuntimeError(f"{item.name} is too long for a GIF ({exc}); save a part of it with "
                                   f"`snaplark gif {src} --start S --end S` (at most {GIF_MAX_SECONDS} s)") from None
            done = f"Saved {gif.path.name}: {gif.describe()}"
            if self._record_saved is not None:
                try:  # its own row in History (kind "gif") from now on: the journal records it
                    self._record_saved("gif", gif.path, source=src, duration=gif.duration)
                except Exception as exc:  # noqa: BLE001 - the GIF is written: said, not lost
                    log.warning("could not record %s in the journal: %s", gif.path, exc)
                    done += f" (not recorded in the history: {exc})"
            return done

        self._say(f"Saving {item.name} as GIF…")
        self._off_tk_thread("save-gif", work, None)

    def delete_server_link(self, item: HistoryItem) -> None:
        remove = self.delete_link
        if remove is None or not item.url:
            self._say(SERVER_DELETE_MISSING)
            return
        if not self._confirm(DELETE_LINK_TITLE, delete_link_question(item.url)):
            return
        self._off_tk_thread("delete-link", lambda: remove(item), f"Link deleted: {item.url}")

    # ------------------------------------------------------------------ helpers
    def _upload(self, message: str, start: Callable[[Any], Any]) -> None:
        self._say(message)

        def work() -> str:
            upload = start(self._engine())
            if self._on_upload is not None:
                on_upload = self._on_upload
                self.ctx.post(lambda: on_upload(upload))
            return f"Upload {getattr(upload, 'id', '')} started".replace("  ", " ")

        self._off_tk_thread("history-upload", work, None)

    def _off_tk_thread(self, name: str, work: Callable[[], Any], done_text: str | None) -> None:
        def run() -> None:
            try:
                result = work()
                text = done_text or (result if isinstance(result, str) else "Done")
            except Exception as exc:  # noqa: BLE001 - shown in the window's status line
                log.warning("%s failed: %s", name, exc)
                text = f"Failed: {exc}"
            self.ctx.post(lambda: (self._say(text), self._changed()))

        threading.Thread(target=run, name=name, daemon=True).start()


def delete_on_server(connection: Any, link: str, history: Any = None) -> None:
    """``DELETE /objects/<id>`` of the upload ``link`` names (what ``snaplark delete LINK`` does), with the owner's
    token of ``connection``; then ``history`` (:class:`~tray.upload.history.UploadHistory`) records it -- also when
    the server says it was deleted already (410). Blocking (HTTP), so off the Tk thread. Raises with a message for
    the user; nothing is recorded then."""
    from tray.api.errors import ApiError, ExtensionMissing
    from tray.upload.links import object_of_link

    target = object_of_link(link)
    if target is None:
        raise ValueError(f"{link} is not a Snaplark link (/v/<id> or /s/<id>)")
    client = connection.client(connect_timeout=5.0, min_read_timeout=30.0)
    try:
        client.delete_object(target[1])
    except ExtensionMissing:
        raise RuntimeError(cannot_delete(connection.api_url)) from None
    except ApiError as exc:
        if exc.status != 410:
            raise
        log.info("%s was deleted already", link)
    finally:
        client.close()
    if history is not None:
        history.mark_link_deleted(link)


def cannot_delete(api_url: str) -> str:
    """A server without the delete extension (``snaplark delete`` says the same)."""
    return f"this server cannot delete links ({api_url} has no such extension; a seed-only server keeps every upload)"
