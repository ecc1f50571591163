"""One worker thread per upload: runs it to COMPLETED or FAILED (or until the engine stops), through the screenshot
protocol or :class:`~tray.upload.video.VideoProtocol`, every API call wrapped in the :class:`CallPolicy`.

Every state change goes through :meth:`SessionWorker.go`: the state machine persists it to the journal first, then
a :class:`StateChanged` event and a progress event are published (outside the lock).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from tray.api.client import ApiClient
from tray.api.errors import PermanentError
from tray.upload.context import EngineContext
from tray.upload.cutter import LocalFileError, read_range
from tray.upload.errors import Stopped
from tray.upload.events import StateChanged
from tray.upload.files import IMAGE_EXTENSIONS, file_size
from tray.upload.journal import JournalError
from tray.upload.lease import SessionLease
from tray.upload.links import UploadLinks
from tray.upload.policy import CallPolicy
from tray.upload.session import RecordingUpload
from tray.upload.state import IllegalTransition, UploadState
from tray.upload.video import VideoProtocol

log = logging.getLogger(__name__)

S = UploadState


@dataclass(frozen=True)
class WorkerOptions:
    part_size: int
    keep_local_copy: bool
    verify_whole_file: bool
    wall_clock: Callable[[], float]
    copy: str = "file"  # upload.copy: which link the upload completes with (tray.upload.links)


class SessionWorker:
    def __init__(self, ctx: EngineContext, upload: RecordingUpload, lease: SessionLease,
                 client_factory: Callable[[], ApiClient], options: WorkerOptions, *, resumed: bool,
                 release_client: Callable[[ApiClient], None] = ApiClient.close):
        """``client_factory`` gives this worker its client; ``release_client`` takes it back at the end (the
        engine's :class:`~tray.upload.client_pool.ClientPool` keeps it, with its connection, for the next upload)."""
        self.ctx = ctx
        self.u = upload
        self.lease = lease
        self._client_factory = client_factory
        self._release_client = release_client
        self.options = options
        self.resumed = resumed
        self.policy = CallPolicy(ctx, upload.id, self.go, lambda: upload.state)

    def run(self) -> None:
        client = None
        video: VideoProtocol | None = None
        try:
            client = self._client_factory()
            if self.u.kind == "screenshot":
                self._run_screenshot(client)
            else:
                video = VideoProtocol(self.ctx, self.u, self.policy, self.go, self._complete,
                                      part_size=self.options.part_size,
                                      verify_whole_file=self.options.verify_whole_file, resumed=self.resumed)
                video.run(client)
        except Stopped:
            log.info("upload %s: stopped in %s; the journal keeps it for later", self.u.id, self.u.state.name)
        except (LocalFileError, PermanentError, JournalError, IllegalTransition) as exc:
            self._fail(str(exc))
        except Exception as exc:  # last resort: never lose the journal, always end in a known state
            log.exception("upload %s: unexpected error", self.u.id)
            self._fail(f"internal error: {type(exc).__name__}: {exc}")
        finally:
            if client is not None:
                self._release_client(client)
            if video is not None:
                video.close()
            self.lease.release()
            self.ctx.notify()

    def go(self, new: UploadState, reason: str = "") -> None:
        u = self.u
        old = u.state
        if old is new:
            return
        u.machine.transition(new, reason)
        self.ctx.notify()
        self.ctx.publish(StateChanged(u.id, u.kind, old, new, reason, url=u.url, error=u.error))
        self.ctx.maybe_progress(u, force=new.terminal)

    def _fail(self, error: str) -> None:
        u = self.u
        log.error("upload %s failed: %s (file kept: %s)", u.id, error, u.path)
        u.error = error
        if u.state is S.COMPLETED or u.state is S.FAILED:
            return
        self.go(S.FAILED, error)

    def _run_screenshot(self, client: ApiClient) -> None:
        u = self.u
        self.go(S.UPLOADING, "uploading screenshot")
        data, _sha = read_range(u.path, 0, file_size(u.path))
        content_type = IMAGE_EXTENSIONS.get(u.path.suffix.lower(), "image/png")
        ext = {"image/jpeg": ".jpg", "image/gif": ".gif"}.get(content_type, ".png")
        filename = f"screenshot-{int(self.options.wall_clock() * 1000)}{ext}"
        expires_in = self.u.metadata.get("expiresIn")  # snaplark --expires / upload.expires (an extension)
        body = self.policy.call(client, lambda: client.upload_screenshot_answer(data, filename, content_type,
                                                                                expires_in=expires_in))
        self._complete(UploadLinks.from_answer(body))

    def _complete(self, links: UploadLinks) -> None:
        u = self.u
        url = links.chosen(self.options.copy)
        self.ctx.journal.complete(u.id, url, file_url=links.url, page_url=links.page_url,
                                  expires_at=links.expires_timestamp)
        u.completed(url, file_url=links.url, expires_at=links.expires_at)
        self.go(S.COMPLETED, url)
        if not self.options.keep_local_copy:
            try:
                u.path.unlink()
            except OSError as exc:
                log.warning("upload %s: could not delete the local copy %s: %s", u.id, u.path, exc)
