"""The upload engine: one worker thread per session, parts in order, part 0 last, nothing only in RAM.

Input is a local file plus "bytes ``[0, n)`` are durable" notices and a final "finished" (the recorder's sink,
``tray/capture/sink.py``), or an already finished file (``snaplark upload FILE``). Every decision is written to the
:class:`~tray.upload.journal.UploadJournal` before it is acted on, so a restarted engine (:meth:`UploadEngine.
resume_all`) asks the server what it holds (``GET /videos/{id}/status``), sends only the rest and finalizes.

Error handling follows ``shared/API.md`` ("Statuses the client acts on"):
Offline → ``PAUSED_OFFLINE``, probe the server (any HTTP answer) with backoff, resume; 401 → ``AUTH_REQUIRED`` until
:meth:`UploadEngine.auth_restored`; 404/410 → re-init and replay every part; 409 → re-send the missing parts;
422 checksum → re-read from disk and re-send (3 in a row → FAILED); 408/429/5xx → backoff (Retry-After honoured);
other 4xx → FAILED, the file and its journal entry stay.

The engine is a registry and launcher; the parts: :mod:`tray.upload.session` (one upload: sink, locked part view,
progress, the future for the URL), :mod:`tray.upload.worker` (its thread; the screenshot protocol),
:mod:`tray.upload.video` (the video protocol), :mod:`tray.upload.policy` (retry, offline, login waits),
:mod:`tray.upload.context` (what they share), :mod:`tray.upload.files` (what can be uploaded, init metadata).

Threading: the public methods of :class:`UploadEngine` and :class:`RecordingUpload` may be called from any thread.
All shared mutable state is guarded by one Condition (``sleeper.condition``); every wait on it is bounded, and
stop / back-online / login / new-bytes notify it so waits end early. Events are published outside the lock.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path
from typing import Any, Callable

from tray.api.client import ApiClient
from tray.upload.backoff import Sleeper
from tray.upload.client_pool import ClientPool
from tray.upload.context import EngineContext
from tray.upload.cutter import PART_SIZE, LocalFileError, file_sha256
from tray.upload.errors import CorruptLocalFile, LoginRequired, UploadFailed
from tray.upload.files import IMAGE_EXTENSIONS, check_uploadable, seed_init_metadata
from tray.upload.journal import JournalError, UploadJournal
from tray.upload.lease import SessionLease
from tray.upload.session import RecordingUpload
from tray.upload.state import UploadState
from tray.upload.video import RECORDER_FAILED_GRACE
from tray.upload.worker import SessionWorker, WorkerOptions

log = logging.getLogger(__name__)

S = UploadState


class UploadEngine:
    """Owns the upload workers. Constructing it does no I/O and starts no thread.

    ``client_factory`` makes one :class:`ApiClient` per worker thread. ``clock`` (monotonic seconds) drives
    progress rate-limiting and rates; ``sleeper`` does every backoff wait (scaled or fake in tests); ``rng`` gives the
    backoff jitter; ``on_event`` receives :class:`StateChanged` and :class:`UploadProgress` events.

    ``verify_whole_file``: also send the optional whole-file sha256 at finalize (files complete when their upload
    starts). Off by default: every part's sha256 is already verified by the server, and hashing the whole file
    again costs a full pass of CPU that, with the embedded server in the same process, is taken from the server.
    ``copy``: the ``upload.copy`` setting -- an upload completes with its share page's link when the server gives
    one and this is ``"page"``, else with the file's (tray.upload.links). The engine's default is the file (what
    every server answers); the app and the CLI pass the setting, whose default is the page. ``expires_in``: the
    ``upload.expires`` setting in seconds (None: never) -- an upload whose metadata has no ``expiresIn`` gets it;
    ``{"expiresIn": None}`` in the metadata asks for no expiry (``--expires never``). ``idle_clients``: how many
    clients (each with its open keep-alive connection) are kept between uploads (:mod:`tray.upload.client_pool`;
    0: a new client and connection per upload, as before).
    """

    def __init__(self, client_factory: Callable[[], ApiClient], journal: UploadJournal, *,
                 clock: Callable[[], float] = time.monotonic, sleeper: Sleeper | None = None,
                 rng: random.Random | None = None, on_event: Callable[[object], None] | None = None,
                 part_size: int = PART_SIZE, keep_local_copy: bool = True, verify_whole_file: bool = False,
                 backoff_schedule: tuple[float, ...] | None = None, server_url: str | None = None,
                 wall_clock: Callable[[], float] = time.time, copy: str = "file", expires_in: int | None = None,
                 idle_clients: int = 2):
        self._clients = ClientPool(client_factory, keep=idle_clients)
        self.journal = journal
        self.clock = clock
        self.sleeper = sleeper or Sleeper()
        self._ctx = EngineContext(journal, clock=clock, sleeper=self.sleeper, rng=rng or random.Random(),
                                  on_event=on_event, backoff_schedule=backoff_schedule)
        self._options = WorkerOptions(part_size=part_size, keep_local_copy=keep_local_copy,
                                      verify_whole_file=verify_whole_file, wall_clock=wall_clock, copy=copy)
        self.server_url = server_url
        self.expires_in = expires_in
        self._wall_clock = wall_clock
        self._uploads: dict[int, RecordingUpload] = {}
        self._threads: dict[int, threading.Thread] = {}

    @property
    def is_online(self) -> bool:
        return self._ctx.is_online

    @property
    def auth_required(self) -> bool:
        return self._ctx.auth_required

    # ------------------------------------------------------------------ public API
    def start_recording_upload(self, path: str | Path, metadata: dict[str, Any] | None = None) -> RecordingUpload:
        """A session for a file that is still being written; feed it through the returned sink."""
        path = Path(path).absolute()
        meta = seed_init_metadata(path, self._with_expiry(metadata), int(self._wall_clock() * 1000))
        return self._create("video", path, meta)

    def upload_file(self, path: str | Path, metadata: dict[str, Any] | None = None) -> RecordingUpload:
        """Upload a complete local file: a video in parts, or an image through the screenshot endpoint."""
        path = Path(path).absolute()
        check_uploadable(path)
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            return self.upload_screenshot(path, {k: v for k, v in (metadata or {}).items() if k == "expiresIn"})
        size = path.stat().st_size
        meta = seed_init_metadata(path, self._with_expiry(metadata), int(self._wall_clock() * 1000))
        duration = float((metadata or {}).get("duration", 0.0) or 0.0)
        return self._create("video", path, meta, finished=True, total_size=size, duration=duration)

    def upload_screenshot(self, png_path: str | Path, metadata: dict[str, Any] | None = None) -> RecordingUpload:
        """``POST /screenshots/upload``; failures keep the file and the journal entry (retried, resumed later).
        ``metadata``: ``{"expiresIn": seconds | None}`` to choose the expiry (else the engine's ``expires_in``)."""
        path = Path(png_path).absolute()
        check_uploadable(path)
        size = path.stat().st_size
        meta = {**self._with_expiry(metadata), "filename": path.name}
        return self._create("screenshot", path, meta, finished=True, total_size=size)

    def _with_expiry(self, metadata: dict[str, Any] | None) -> dict[str, Any]:
        """``metadata`` with the default ``expiresIn`` when it does not choose one (upload.expires)."""
        meta = dict(metadata or {})
        if "expiresIn" not in meta and self.expires_in:
            meta["expiresIn"] = int(self.expires_in)
        return meta

    def resume_all(self) -> list[RecordingUpload]:
        """Start a worker for every journal session that is neither completed nor failed (after a restart)."""
        resumed = []
        for rec in self.journal.resumable_sessions():
            with self._ctx.cond:
                if rec.id in self._uploads:
                    continue
            lease = self._lease(rec.id)
            if not lease.acquire():
                log.info("upload %s is being uploaded by another process; not resuming it here", rec.id)
                continue
            log.info("resuming upload %s (%s, %s, state %s)", rec.id, rec.kind, rec.local_path, rec.state)
            resumed.append(self._launch(rec.id, lease, resumed=True))
        return resumed

    def retry(self, upload_id: int) -> RecordingUpload:
        """Try a FAILED upload again (its file and journal entry were kept)."""
        rec = self.journal.get_session(upload_id)
        if rec is None:
            raise KeyError(upload_id)
        lease = self._lease(upload_id)
        if not lease.acquire():
            raise RuntimeError(f"upload {upload_id} is being uploaded by another process")
        self.journal.set_state(upload_id, S.IDLE.value)
        with self._ctx.cond:
            self._uploads.pop(upload_id, None)
        return self._launch(upload_id, lease, resumed=True)

    def auth_restored(self) -> None:
        """The user logged in again: uploads waiting in AUTH_REQUIRED continue."""
        self._ctx.auth_restored()

    def warm(self) -> threading.Thread | None:
        """An upload is likely soon: open a connection to the server now, on a background thread (returned; None
        when one is already kept). See :meth:`ClientPool.warm`."""
        return self._clients.warm()

    def network_changed(self) -> None:
        """A hint that connectivity may be back: paused uploads probe now instead of at their next backoff."""
        self._ctx.network_changed()

    def uploads(self) -> list[RecordingUpload]:
        with self._ctx.cond:
            return list(self._uploads.values())

    def get(self, upload_id: int) -> RecordingUpload | None:
        with self._ctx.cond:
            return self._uploads.get(upload_id)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop every worker (journal left resumable). Returns True if all threads ended within ``timeout``."""
        self._ctx.request_stop()
        with self._ctx.cond:
            threads = list(self._threads.values())
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._clients.close()
        return not any(t.is_alive() for t in threads)

    def __enter__(self) -> "UploadEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals
    def _lease(self, session_id: int) -> SessionLease:
        return SessionLease(self.journal.path.parent / "upload-locks", session_id)

    def _create(self, kind: str, path: Path, metadata: dict[str, Any], **fields: Any) -> RecordingUpload:
        leases: list[SessionLease] = []

        def take(session_id: int) -> None:
            lease = self._lease(session_id)
            if not lease.acquire():  # a stale lock file of a reused id held by someone: refuse, roll back
                raise JournalError(f"upload {session_id} is locked by another process")
            leases.append(lease)

        try:
            sid = self.journal.create_session(kind, path, metadata, server_url=self.server_url,
                                              state=S.IDLE.value, before_commit=take, **fields)
        except BaseException:
            for lease in leases:
                lease.release()
            raise
        return self._launch(sid, leases[0])

    def _launch(self, session_id: int, lease: SessionLease, *, resumed: bool = False) -> RecordingUpload:
        try:
            rec = self.journal.get_session(session_id)
            assert rec is not None
            upload = RecordingUpload(self._ctx, rec)
        except BaseException:
            lease.release()
            raise
        worker = SessionWorker(self._ctx, upload, lease, self._clients.take, self._options, resumed=resumed,
                               release_client=self._clients.give_back)
        thread = threading.Thread(target=worker.run, name=f"upload-{session_id}", daemon=True)
        with self._ctx.cond:
            if self._ctx.stopping:
                lease.release()
                raise RuntimeError("the upload engine is stopped")
            self._uploads[session_id] = upload
            self._threads[session_id] = thread
        thread.start()
        return upload


__all__ = ["UploadEngine", "RecordingUpload", "UploadFailed", "LoginRequired", "CorruptLocalFile", "LocalFileError",
           "check_uploadable", "seed_init_metadata", "file_sha256", "RECORDER_FAILED_GRACE"]
