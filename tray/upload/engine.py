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

Threading: the public methods of :class:`UploadEngine` and :class:`RecordingUpload` may be called from any thread.
All shared mutable state is guarded by one Condition (``sleeper.condition``); every wait on it is bounded, and
stop / back-online / login / new-bytes notify it so waits end early. Events are published outside the lock.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import os
import random
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable

from tray.api.client import ApiClient
from tray.api.errors import (
    ApiError,
    AuthRequired,
    ChecksumMismatch,
    Incomplete,
    Offline,
    PermanentError,
    SessionGone,
    TransientError,
)
from tray.upload.backoff import Backoff, Sleeper
from tray.upload.cutter import MIN_PART_SIZE, PART_SIZE, LocalFileError, PartCutter, file_sha256, read_range
from tray.upload.events import StateChanged, UploadProgress
from tray.upload.journal import JournalError, PartRecord, SessionRecord, UploadJournal
from tray.upload.lease import SessionLease
from tray.upload.state import IllegalTransition, SessionStateMachine, UploadState

log = logging.getLogger(__name__)

S = UploadState
VIDEO_EXTENSIONS = {".webm": ("vp9", "video/webm"), ".mp4": ("h264", "video/mp4"), ".mkv": ("vp9", "video/x-matroska")}
IMAGE_EXTENSIONS = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MAX_CHECKSUM_MISMATCHES = 3
MAX_FINALIZE_ROUNDS = 5
PROGRESS_INTERVAL = 0.25  # at most 4 progress events per second per upload
IDLE_WAIT = 1.0  # bound of one wait for new bytes / login (re-checked in a loop)
RATE_WINDOW = 5.0
AUTH_PROBE_SCHEDULE = (15.0, 30.0, 60.0)
RECORDER_FAILED_GRACE = 10.0  # after failed(), wait this long (engine clock) for finished() before finishing alone  # while AUTH_REQUIRED: check the token again now and then


class UploadFailed(RuntimeError):
    """The upload ended in FAILED; ``error`` says why. The local file and the journal entry are kept."""

    def __init__(self, upload_id: int, error: str):
        super().__init__(error)
        self.upload_id = upload_id
        self.error = error


class LoginRequired(UploadFailed):
    """``wait(stop_on_login=True)``: the server refused the token; the upload waits in the journal for a login."""


class CorruptLocalFile(LocalFileError):
    """The server rejected a part's checksum three times in a row: the local file reads back differently."""


class _Stop(Exception):
    """The engine is stopping: leave the session as the journal describes it."""


class _Restart(Exception):
    """Start the session's protocol over (after a re-init)."""


INIT_FIELDS = ("filename", "timestamp", "fps", "codec", "bitrate", "resolution")
_RESOLUTION = re.compile(r"^[0-9]{1,5}x[0-9]{1,5}$")


def seed_init_metadata(path: Path, metadata: dict[str, Any] | None, now_ms: int) -> dict[str, Any]:
    """Session metadata: everything given, with the seed's ``/videos/init`` fields present and well-typed."""
    codec, _ = VIDEO_EXTENSIONS.get(path.suffix.lower(), ("vp9", "video/webm"))
    out: dict[str, Any] = {"filename": path.name, "timestamp": now_ms, "fps": 30, "codec": codec,
                           "bitrate": 2_500_000, "resolution": "1920x1080"}
    defaults = dict(out)
    out.update(metadata or {})
    checks: dict[str, Callable[[Any], Any]] = {
        "filename": lambda v: str(v)[:255] if str(v).isprintable() and str(v) else None,
        "codec": lambda v: str(v)[:64] if str(v).isprintable() and str(v) else None,
        "timestamp": lambda v: int(v) if float(v) >= 0 else None,
        "fps": lambda v: (int(v) if float(v).is_integer() else float(v)) if 0 < float(v) <= 1000 else None,
        "bitrate": lambda v: int(v) if int(v) >= 0 else None,
        "resolution": lambda v: str(v) if _RESOLUTION.match(str(v)) else None,
    }
    for key, check in checks.items():
        try:
            value = check(out[key])
        except (TypeError, ValueError, OverflowError):
            value = None
        if value is None:
            log.warning("upload metadata %s=%r is not valid for /videos/init; using %r", key, out[key], defaults[key])
            value = defaults[key]
        out[key] = value
    return out


class RecordingUpload:
    """One upload (video or screenshot): the recorder's sink, a progress source, and a future for the URL.

    ``durable``/``finished``/``failed`` are called by the recorder (any thread); they journal and wake the worker,
    never block on the network.
    """

    def __init__(self, engine: "UploadEngine", record: SessionRecord):
        self._engine = engine
        self.id = record.id
        self.kind = record.kind
        self.path = Path(record.local_path)
        self.metadata: dict[str, Any] = dict(record.metadata)
        self.server_session_id: str | None = record.server_session_id
        self.url: str | None = record.url
        self.error: str | None = None
        self._durable = record.durable_bytes
        self._finished = record.finished
        self._total = record.total_size
        self._duration = record.duration
        self._parts: list[PartRecord] = list(record.parts)
        self._failed_parts: set[int] = set()
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._last_progress = float("-inf")
        self._recorder_failure: tuple[str, float] | None = None
        self.machine = SessionStateMachine(S.IDLE, self._on_state_change)

    # ------------------------------------------------------------------ sink (recorder side)
    def durable(self, nbytes: int) -> None:
        """Bytes ``[0, nbytes)`` of the file are flushed and fsynced."""
        eng = self._engine
        with eng._cond:
            if self._finished or nbytes <= self._durable:
                return
            self._durable = int(nbytes)
        try:
            eng.journal.update_durable(self.id, int(nbytes))
        except JournalError as exc:  # the file is the spool; the worker reports the journal failure
            log.error("upload %s: %s", self.id, exc)
        eng._notify()
        eng._maybe_progress(self)

    def finished(self, total_bytes: int, duration: float, metadata: dict[str, Any] | None = None) -> None:
        """The file is closed and complete at ``total_bytes``."""
        eng = self._engine
        merged = {**self.metadata, **(metadata or {})}
        with eng._cond:
            if self._finished:
                return
            self._finished = True
            self._total = int(total_bytes)
            self._durable = max(self._durable, int(total_bytes))
            self._duration = float(duration or 0.0)
            self.metadata = merged
        try:
            eng.journal.update_session(self.id, finished=True, total_size=int(total_bytes),
                                       durable_bytes=int(total_bytes), duration=float(duration or 0.0),
                                       metadata=merged)
        except JournalError as exc:
            log.error("upload %s: %s", self.id, exc)
        eng._notify()

    def failed(self, reason: str) -> None:
        """The recording aborted. Per the sink contract ``finished`` normally follows and what was written is
        uploaded; if the file is gone (nothing was recorded) the upload ends FAILED; if ``finished`` never comes,
        the worker finishes the upload at the file's size after :data:`RECORDER_FAILED_GRACE` seconds."""
        eng = self._engine
        log.warning("upload %s: the recording failed (%s); uploading what was written", self.id, reason)
        with eng._cond:
            if self._finished:
                return
            self._recorder_failure = (str(reason), eng.clock())
            self.metadata = {**self.metadata, "recordingError": str(reason)}
            metadata = dict(self.metadata)
        try:
            eng.journal.update_session(self.id, metadata=metadata)
        except JournalError as exc:
            log.error("upload %s: %s", self.id, exc)
        eng._notify()

    # ------------------------------------------------------------------ observation
    @property
    def state(self) -> UploadState:
        return self.machine.state

    @property
    def done(self) -> bool:
        return self.machine.state.terminal

    def progress(self) -> dict[str, Any]:
        eng = self._engine
        with eng._cond:
            parts = list(self._parts)
            total = self._total if self._finished else self._durable
            state = self.machine.state
            acked = [p for p in parts if p.acked]
            sent = sum(p.length for p in acked) if self.kind == "video" else (total or 0) * (state is S.COMPLETED)
            rate = 0.0
            if len(self._samples) >= 2:
                (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
                if t1 > t0:
                    rate = (b1 - b0) / (t1 - t0)
            total = total or 0
            return {
                "uploaded": len(acked), "pending": len(parts) - len(acked), "failed": len(self._failed_parts),
                "percentage": 100 if state is S.COMPLETED else (int(100 * sent / total) if total else 0),
                "isOnline": eng.is_online, "hasSession": bool(self.server_session_id),
                "bytes_sent": sent, "bytes_total": total, "rate": rate, "state": state.value,
                "session_id": self.server_session_id, "url": self.url, "upload_id": self.id, "kind": self.kind,
                "path": str(self.path), "finished": self._finished,
            }

    def wait(self, timeout: float | None = None, *, stop_on_login: bool = False) -> str:
        """Block until COMPLETED (returns the URL) or FAILED (raises :class:`UploadFailed`).

        Raises TimeoutError after ``timeout`` seconds (real time); ``None`` waits as long as it takes, in bounded
        slices. ``stop_on_login`` (a command-line caller, which cannot log in while it waits): AUTH_REQUIRED raises
        :class:`LoginRequired` at once; the upload stays in the journal for ``--resume`` after a login."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._engine._cond:
            while not self.machine.state.terminal:
                if stop_on_login and self.machine.state is S.AUTH_REQUIRED:
                    raise LoginRequired(self.id, "the server refused the token (401)")
                remaining = IDLE_WAIT if deadline is None else deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"upload {self.id} still {self.machine.state.name} after {timeout} s")
                self._engine._cond.wait(min(remaining, IDLE_WAIT))
        if self.machine.state is S.FAILED:
            raise UploadFailed(self.id, self.error or "upload failed")
        assert self.url is not None
        return self.url

    # ------------------------------------------------------------------ internals
    def _on_state_change(self, old: UploadState, new: UploadState, reason: str) -> None:
        # persist first; FAILED is recorded in memory even when the journal cannot be written
        try:
            if new is S.COMPLETED:
                pass  # journal.complete() already wrote it together with the history row
            else:
                self._engine.journal.set_state(self.id, new.value, error=self.error if new is S.FAILED else None)
        except JournalError:
            if new is not S.FAILED:
                raise
            log.error("upload %s: could not record FAILED in the journal", self.id)

    def _sample(self, now: float) -> None:
        sent = sum(p.length for p in self._parts if p.acked)
        self._samples.append((now, sent))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW:
            self._samples.popleft()

    def __repr__(self) -> str:
        return f"<RecordingUpload {self.id} {self.kind} {self.path.name} {self.state.name}>"


class UploadEngine:
    """Owns the upload workers. Constructing it does no I/O and starts no thread.

    ``client_factory`` makes one :class:`ApiClient` per worker thread. ``clock`` (monotonic seconds) drives
    progress rate-limiting and rates; ``sleeper`` does every backoff wait (scaled or fake in tests); ``rng`` gives the
    backoff jitter; ``on_event`` receives :class:`StateChanged` and :class:`UploadProgress` events.

    ``verify_whole_file``: also send the optional whole-file sha256 at finalize (files complete when their upload
    starts). Off by default: every part's sha256 is already verified by the server, and hashing the whole file
    again costs a full pass of CPU that, with the embedded server in the same process, is taken from the server.
    """

    def __init__(self, client_factory: Callable[[], ApiClient], journal: UploadJournal, *,
                 clock: Callable[[], float] = time.monotonic, sleeper: Sleeper | None = None,
                 rng: random.Random | None = None, on_event: Callable[[object], None] | None = None,
                 part_size: int = PART_SIZE, keep_local_copy: bool = True, verify_whole_file: bool = False,
                 backoff_schedule: tuple[float, ...] | None = None, server_url: str | None = None,
                 wall_clock: Callable[[], float] = time.time):
        self._client_factory = client_factory
        self.journal = journal
        self.clock = clock
        self.sleeper = sleeper or Sleeper()
        self._cond = self.sleeper.condition
        self._rng = rng or random.Random()
        self._on_event = on_event
        self.part_size = part_size
        self.keep_local_copy = keep_local_copy
        self.verify_whole_file = verify_whole_file
        self._backoff_schedule = backoff_schedule
        self.server_url = server_url
        self._wall_clock = wall_clock
        self._uploads: dict[int, RecordingUpload] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._stopping = False
        self._auth_generation = 0
        self._online_generation = 0
        self.is_online = True
        self.auth_required = False

    # ------------------------------------------------------------------ public API
    def start_recording_upload(self, path: str | Path, metadata: dict[str, Any] | None = None) -> RecordingUpload:
        """A session for a file that is still being written; feed it through the returned sink."""
        path = Path(path).absolute()
        meta = seed_init_metadata(path, metadata, int(self._wall_clock() * 1000))
        return self._create("video", path, meta)

    def upload_file(self, path: str | Path, metadata: dict[str, Any] | None = None) -> RecordingUpload:
        """Upload a complete local file: a video in parts, or an image through the screenshot endpoint."""
        path = Path(path).absolute()
        check_uploadable(path)
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            return self.upload_screenshot(path)
        size = path.stat().st_size
        meta = seed_init_metadata(path, metadata, int(self._wall_clock() * 1000))
        duration = float((metadata or {}).get("duration", 0.0) or 0.0)
        return self._create("video", path, meta, finished=True, total_size=size, duration=duration)

    def upload_screenshot(self, png_path: str | Path) -> RecordingUpload:
        """``POST /screenshots/upload``; failures keep the file and the journal entry (retried, resumed later)."""
        path = Path(png_path).absolute()
        check_uploadable(path)
        size = path.stat().st_size
        return self._create("screenshot", path, {"filename": path.name}, finished=True, total_size=size)

    def resume_all(self) -> list[RecordingUpload]:
        """Start a worker for every journal session that is neither completed nor failed (after a restart)."""
        resumed = []
        for rec in self.journal.resumable_sessions():
            with self._cond:
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
        with self._cond:
            self._uploads.pop(upload_id, None)
        return self._launch(upload_id, lease, resumed=True)

    def auth_restored(self) -> None:
        """The user logged in again: uploads waiting in AUTH_REQUIRED continue."""
        with self._cond:
            self._auth_generation += 1
            self.auth_required = False
            self._cond.notify_all()

    def network_changed(self) -> None:
        """A hint that connectivity may be back: paused uploads probe now instead of at their next backoff."""
        with self._cond:
            self._online_generation += 1
            self._cond.notify_all()

    def uploads(self) -> list[RecordingUpload]:
        with self._cond:
            return list(self._uploads.values())

    def get(self, upload_id: int) -> RecordingUpload | None:
        with self._cond:
            return self._uploads.get(upload_id)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop every worker (journal left resumable). Returns True if all threads ended within ``timeout``."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads = list(self._threads.values())
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
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
            upload = RecordingUpload(self, rec)
        except BaseException:
            lease.release()
            raise
        worker = _SessionWorker(self, upload, lease, resumed=resumed)
        thread = threading.Thread(target=worker.run, name=f"upload-{session_id}", daemon=True)
        with self._cond:
            if self._stopping:
                lease.release()
                raise RuntimeError("the upload engine is stopped")
            self._uploads[session_id] = upload
            self._threads[session_id] = thread
        thread.start()
        return upload

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _publish(self, event: object) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken subscriber must not break uploads
            log.exception("upload event handler failed on %r", event)

    def _maybe_progress(self, upload: RecordingUpload, force: bool = False) -> None:
        now = self.clock()
        with self._cond:
            if not force and now - upload._last_progress < PROGRESS_INTERVAL:
                return
            upload._last_progress = now
        self._publish(UploadProgress(upload.id, upload.progress()))

    def _set_online(self, online: bool) -> None:
        with self._cond:
            if online and not self.is_online:
                self._online_generation += 1
                self._cond.notify_all()
            self.is_online = online

    def _new_backoff(self) -> Backoff:
        if self._backoff_schedule:
            return Backoff(self._rng, schedule=self._backoff_schedule)
        return Backoff(self._rng)


class _SessionWorker:
    """Runs one upload to COMPLETED or FAILED on its own thread (or until the engine stops)."""

    def __init__(self, engine: UploadEngine, upload: RecordingUpload, lease: SessionLease, *, resumed: bool):
        self.eng = engine
        self.u = upload
        self.lease = lease
        self.journal = engine.journal
        self.resumed = resumed
        self.cutter: PartCutter | None = None
        self._finish_cut = False
        # one helper thread per worker: reads+hashes the next part while the current one is on the wire, and
        # hashes the whole file (for finished files) alongside the upload
        self._helper: concurrent.futures.ThreadPoolExecutor | None = None
        self._prefetch: tuple[PartRecord, concurrent.futures.Future] | None = None
        self._whole: concurrent.futures.Future | None = None

    # ------------------------------------------------------------------ top level
    def run(self) -> None:
        client = None
        try:
            client = self.eng._client_factory()
            if self.u.kind == "screenshot":
                self._run_screenshot(client)
            else:
                self._run_video(client)
        except _Stop:
            log.info("upload %s: stopped in %s; the journal keeps it for later", self.u.id, self.u.state.name)
        except (LocalFileError, PermanentError, JournalError, IllegalTransition) as exc:
            self._fail(str(exc))
        except Exception as exc:  # last resort: never lose the journal, always end in a known state
            log.exception("upload %s: unexpected error", self.u.id)
            self._fail(f"internal error: {type(exc).__name__}: {exc}")
        finally:
            if client is not None:
                client.close()
            if self._helper is not None:
                self._helper.shutdown(wait=True, cancel_futures=True)
            self.lease.release()
            self.eng._notify()

    def _submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        if self._helper is None:
            self._helper = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"upload-{self.u.id}-read")
        return self._helper.submit(fn, *args)

    def _go(self, new: UploadState, reason: str = "") -> None:
        u = self.u
        old = u.state
        if old is new:
            return
        u.machine.transition(new, reason)
        self.eng._notify()
        self.eng._publish(StateChanged(u.id, u.kind, old, new, reason, url=u.url, error=u.error))
        self.eng._maybe_progress(u, force=new.terminal)

    def _fail(self, error: str) -> None:
        u = self.u
        log.error("upload %s failed: %s (file kept: %s)", u.id, error, u.path)
        u.error = error
        if u.state is S.COMPLETED or u.state is S.FAILED:
            return
        self._go(S.FAILED, error)

    def _check_stop(self) -> None:
        if self.eng._stopping:
            raise _Stop()

    def _sleep(self, seconds: float, wake: Callable[[], bool] | None = None) -> None:
        eng = self.eng
        eng.sleeper.sleep(seconds, lambda: eng._stopping or (wake is not None and wake()))
        self._check_stop()

    # ------------------------------------------------------------------ the retry wrapper
    def _call(self, client: ApiClient, fn: Callable[[], Any]) -> Any:
        """Run one API call until it succeeds or fails in a way the caller must handle.

        Transient errors back off; Offline pauses and probes; 401 waits for a login. SessionGone, Incomplete,
        ChecksumMismatch and PermanentError propagate."""
        eng = self.eng
        backoff = eng._new_backoff()
        active = self.u.state
        while True:
            self._check_stop()
            try:
                result = fn()
            except AuthRequired as exc:
                rejected = client.token_fingerprint()
                with eng._cond:
                    generation = eng._auth_generation
                    eng.auth_required = True
                self._go(S.AUTH_REQUIRED, str(exc))
                self._wait_for_login(client, generation, rejected)
                with eng._cond:
                    eng.auth_required = False
                self._go(active, "logged in again")
                backoff.reset()
                continue
            except Offline as exc:
                eng._set_online(False)
                self._go(S.PAUSED_OFFLINE, str(exc))
                self._probe_until_online(client, backoff)
                self._go(active, "back online")
                continue
            except TransientError as exc:
                delay = backoff.next_delay(exc.retry_after)
                log.info("upload %s: %s; retrying in %.2fs", self.u.id, exc, delay)
                self._sleep(delay)
                continue
            eng._set_online(True)
            return result

    def _wait_for_login(self, client: ApiClient, generation: int, rejected: str | None) -> None:
        """Until :meth:`UploadEngine.auth_restored` is called, or the token works again, checked now and then so a
        login that raced with this 401 is not missed: with ``GET /me`` where the server has it, else (a seed-only
        server) by the token having changed since the one that was ``rejected``; the retried call then checks it."""
        eng = self.eng
        backoff = Backoff(eng._rng, schedule=AUTH_PROBE_SCHEDULE)
        while True:
            self._sleep(backoff.next_delay(), lambda: eng._auth_generation != generation)
            with eng._cond:
                if eng._auth_generation != generation:
                    return
            try:
                if client.me() is None and client.token_fingerprint() == rejected:
                    continue
            except ApiError as exc:
                log.debug("upload %s: still not logged in (%s)", self.u.id, exc)
                continue
            return

    def _probe_until_online(self, client: ApiClient, backoff: Backoff) -> None:
        """Back online as soon as the server gives any HTTP answer (``/health`` where it exists; a seed-only
        server's 404 there counts too)."""
        eng = self.eng
        while True:
            with eng._cond:
                generation = eng._online_generation
            self._sleep(backoff.next_delay(), lambda: eng._online_generation != generation)
            try:
                client.probe()
            except ApiError as exc:
                log.debug("upload %s: still offline (%s)", self.u.id, exc)
                continue
            eng._set_online(True)
            backoff.reset()
            return

    # ------------------------------------------------------------------ screenshots
    def _run_screenshot(self, client: ApiClient) -> None:
        u = self.u
        self._go(S.UPLOADING, "uploading screenshot")
        data, _sha = read_range(u.path, 0, _file_size(u.path))
        content_type = IMAGE_EXTENSIONS.get(u.path.suffix.lower(), "image/png")
        ext = ".jpg" if content_type == "image/jpeg" else ".png"
        filename = f"screenshot-{int(self.eng._wall_clock() * 1000)}{ext}"
        url = self._call(client, lambda: client.upload_screenshot(data, filename, content_type))
        self._complete(url)

    def _complete(self, url: str) -> None:
        u = self.u
        u.url = url
        self.journal.complete(u.id, url)
        with self.eng._cond:
            u._sample(self.eng.clock())
        self._go(S.COMPLETED, url)
        if not self.eng.keep_local_copy:
            try:
                u.path.unlink()
            except OSError as exc:
                log.warning("upload %s: could not delete the local copy %s: %s", u.id, u.path, exc)

    # ------------------------------------------------------------------ videos
    def _run_video(self, client: ApiClient) -> None:
        u = self.u
        with self.eng._cond:
            parts = list(u._parts)
        self.cutter = _cutter_from_parts(u.path, self.eng.part_size, parts)
        if self.resumed:
            self._prepare_resume()
        if self.eng.verify_whole_file and u._finished and u._total:
            # complete before the upload starts (upload_file, resume): hash it alongside. A live recording is not
            # hashed whole: that would make stop→link time grow with its length; the server checks every part.
            self._whole = self._submit(_range_sha256, u.path, u._total)
        while True:
            try:
                if u.server_session_id is None:
                    self._init(client)
                elif self.resumed:
                    self.resumed = False
                    self._sync_with_server(client)
                self._upload_loop(client)
                return
            except _Restart:
                continue

    def _prepare_resume(self) -> None:
        """A session found in the journal after a restart: a recording that never finished ends where the file
        ends now (the recorder is gone)."""
        u = self.u
        if u._finished:
            return
        size = _file_size(u.path)
        assert self.cutter is not None
        if size < self.cutter.next_offset:
            raise LocalFileError(f"{u.path}: the file shrank to {size} bytes, {self.cutter.next_offset} were "
                                 f"already cut into parts")
        log.info("upload %s: the recording was interrupted; uploading the %d bytes on disk", u.id, size)
        u.finished(size, float(u.metadata.get("duration", 0.0) or 0.0), {"recordingInterrupted": True})

    def _init(self, client: ApiClient) -> None:
        u = self.u
        self._go(S.INITIALIZING, "creating a server session")
        meta = {k: u.metadata[k] for k in INIT_FIELDS if k in u.metadata}
        session_id = self._call(client, lambda: client.video_init(meta))
        self.journal.reset_acks(u.id, session_id)
        with self.eng._cond:
            u.server_session_id = session_id
            for p in u._parts:
                p.acked = False
        self._go(S.UPLOADING, f"session {session_id}")

    def _replay(self, client: ApiClient, reason: str) -> None:
        """The server lost the session: forget the acks and start over with a new session."""
        log.warning("upload %s: %s; re-initialising and replaying every part", self.u.id, reason)
        self.journal.reset_acks(self.u.id, None)
        with self.eng._cond:
            self.u.server_session_id = None
            for p in self.u._parts:
                p.acked = False
        raise _Restart()

    def _sync_with_server(self, client: ApiClient) -> None:
        """After a restart: trust the server's list of parts (or our journal if the server cannot tell)."""
        u = self.u
        self._go(S.UPLOADING, "resuming")
        sid = u.server_session_id
        assert sid is not None
        try:
            status = self._call(client, lambda: client.video_status(sid))
        except SessionGone as exc:
            self._replay(client, f"session {sid} is gone ({exc})")
            return
        if status is None:
            log.info("upload %s: the server has no status endpoint; trusting the journal", u.id)
            return
        self._apply_server_parts(status)

    def _apply_server_parts(self, status: dict) -> None:
        u = self.u
        server = {}
        for sp in status.get("parts") or []:
            try:
                server[int(sp["chunkIndex"])] = sp
            except (KeyError, TypeError, ValueError):
                continue
        finalized = status.get("state") == "finalized"
        acked: dict[int, bool] = {}
        with self.eng._cond:
            parts = list(u._parts)
        for p in parts:
            sp = server.get(p.index)
            ok = finalized
            if sp is not None and not finalized:
                size_ok = sp.get("size") in (None, p.length)
                sha = p.sha256
                if sha is None and sp.get("sha256"):
                    _, sha = read_range(u.path, p.offset, p.length)
                ok = size_ok and (not sp.get("sha256") or sp.get("sha256") == sha)
            acked[p.index] = bool(ok)
        self.journal.set_acked(u.id, acked)
        with self.eng._cond:
            for p in u._parts:
                p.acked = acked.get(p.index, False)
        missing = [i for i, ok in acked.items() if not ok]
        log.info("upload %s: server holds %d of %d parts; re-sending %s", u.id, len(acked) - len(missing),
                 len(acked), missing)

    def _upload_loop(self, client: ApiClient) -> None:
        u = self.u
        eng = self.eng
        finalize_rounds = 0
        while True:
            self._check_stop()
            self._cut_available()
            part = self._next_part()
            if part is not None:
                self._send_part(client, part)
                continue
            with eng._cond:
                ready = u._finished and bool(u._parts) and all(p.acked for p in u._parts)
            if ready:
                finalize_rounds += 1
                if finalize_rounds > MAX_FINALIZE_ROUNDS:
                    raise PermanentError(f"the server kept refusing to finalize upload {u.id}")
                if self._finalize(client):
                    return
                continue
            self._after_recorder_failure()
            seen = (u._durable, u._finished, u._recorder_failure)
            eng.sleeper.wait_event(IDLE_WAIT, lambda: eng._stopping or
                                   (u._durable, u._finished, u._recorder_failure) != seen)

    def _after_recorder_failure(self) -> None:
        u = self.u
        with self.eng._cond:
            failure, finished = u._recorder_failure, u._finished
        if failure is None or finished:
            return
        reason, at = failure
        try:
            size = u.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size == 0:
            raise LocalFileError(f"the recording failed before anything was written ({reason}); nothing to upload")
        if self.eng.clock() - at >= RECORDER_FAILED_GRACE:
            log.warning("upload %s: no finished() after the recording failed; uploading the %d bytes on disk",
                        u.id, size)
            u.finished(size, float(u._duration or 0.0), {})

    def _cut_available(self) -> None:
        u = self.u
        assert self.cutter is not None
        with self.eng._cond:
            durable, finished, total = u._durable, u._finished, u._total
        if finished and not self._finish_cut:
            if total is None:
                total = durable
            new = self.cutter.finish(total)
            self._finish_cut = True
        elif not finished:
            new = self.cutter.cut(durable)
        else:
            new = []
        if new:
            self.journal.add_parts(u.id, new, durable_bytes=max(durable, self.cutter.next_offset))
            with self.eng._cond:
                u._parts.extend(new)
            self.eng._maybe_progress(u)

    def _next_part(self) -> PartRecord | None:
        """Lowest unacked part ≥ 1; part 0 only once the file is finished and every other part is acked."""
        u = self.u
        with self.eng._cond:
            for p in u._parts:
                if p.index >= 1 and not p.acked:
                    return p
            if u._finished and u._parts and not u._parts[0].acked:
                return u._parts[0]
        return None

    def _send_part(self, client: ApiClient, part: PartRecord) -> None:
        u = self.u
        assert self.cutter is not None
        if u.state is not S.UPLOADING:
            self._go(S.UPLOADING, f"sending part {part.index}")
        mismatches = 0
        while True:
            data, sha = self._read(part, allow_prefetched=mismatches == 0)
            part.sha256 = sha
            self._prefetch_next(part)
            sid = u.server_session_id
            try:
                self._call(client, lambda: client.video_chunk(sid, part.index, data, sha))
            except ChecksumMismatch as exc:
                mismatches += 1
                with self.eng._cond:
                    u._failed_parts.add(part.index)
                if mismatches >= MAX_CHECKSUM_MISMATCHES:
                    raise CorruptLocalFile(f"{u.path}: part {part.index} failed the server's checksum "
                                           f"{mismatches} times in a row; the local file looks corrupt") from exc
                log.warning("upload %s: checksum mismatch on part %d (%s); re-reading it from disk",
                            u.id, part.index, exc)
                continue
            except SessionGone as exc:
                self._replay(client, f"session {sid} is gone ({exc})")
            break
        self.journal.mark_acked(u.id, part.index, sha)
        now = self.eng.clock()
        with self.eng._cond:
            part.acked = True
            u._failed_parts.discard(part.index)
            u._sample(now)
        self.eng._maybe_progress(u)

    def _read(self, part: PartRecord, *, allow_prefetched: bool) -> tuple[bytes, str]:
        assert self.cutter is not None
        pending, self._prefetch = self._prefetch, None
        if pending is not None:
            ahead, future = pending
            if allow_prefetched and (ahead.index, ahead.offset, ahead.length) == (part.index, part.offset,
                                                                                   part.length):
                return future.result()  # LocalFileError from the helper surfaces here
            future.cancel()
        return self.cutter.read(part)

    def _prefetch_next(self, current: PartRecord) -> None:
        """Start reading the part that will be sent after ``current`` (parts ≥ 1 never change once cut)."""
        u = self.u
        with self.eng._cond:
            later = [p for p in u._parts if p.index > current.index and not p.acked]
            nxt = later[0] if later and current.index != 0 else None
        if nxt is not None and self.cutter is not None:
            self._prefetch = (nxt, self._submit(self.cutter.read, nxt))

    def _finalize(self, client: ApiClient) -> bool:
        u = self.u
        self._go(S.FINALIZING, "all parts sent")
        with self.eng._cond:
            parts = list(u._parts)
            total = u._total
            duration = float(u._duration or 0.0)
            metadata = dict(u.metadata)
        size = _file_size(u.path)
        if total is not None and size < total:
            raise LocalFileError(f"{u.path}: the file shrank to {size} bytes during the upload ({total} expected)")
        whole = None
        if self._whole is not None:
            whole = self._whole.result()
        sid = u.server_session_id
        indices = [p.index for p in parts]
        try:
            body = self._call(client, lambda: client.video_finalize(sid, len(parts), indices, duration, metadata,
                                                                    whole))
        except Incomplete as exc:
            missing = [i for i in exc.missing if 0 <= i < len(parts)]
            if not missing:  # the server did not say what it lacks: ask it, else resend everything
                status = self._call(client, lambda: client.video_status(sid))
                if status is not None:
                    self._apply_server_parts(status)
                    missing = [p.index for p in u._parts if not p.acked]
                if not missing:
                    missing = indices
            log.warning("upload %s: server lacks parts %s; re-sending them", u.id, missing)
            self.journal.set_acked(u.id, {i: False for i in missing})
            with self.eng._cond:
                for p in u._parts:
                    if p.index in missing:
                        p.acked = False
            self._go(S.UPLOADING, f"server lacks parts {missing}")
            return False
        except ChecksumMismatch as exc:
            log.warning("upload %s: whole-file checksum refused (%s); re-sending every part", u.id, exc)
            self.journal.set_acked(u.id, {i: False for i in indices})
            with self.eng._cond:
                for p in u._parts:
                    p.acked = False
            self._go(S.UPLOADING, "whole-file checksum mismatch")
            return False
        except SessionGone as exc:
            self._replay(client, f"session {sid} is gone at finalize ({exc})")
            return False
        self._complete(body["url"])
        return True


def _cutter_from_parts(path: Path, part_size: int, parts: list[PartRecord]) -> PartCutter:
    """Parts cut by an earlier run keep their boundaries, and later cuts keep that run's part size."""
    if parts and parts[0].length >= MIN_PART_SIZE:
        part_size = parts[0].length
    return PartCutter(path, part_size, parts=parts)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError as exc:
        raise LocalFileError(f"{path}: the file disappeared before it was uploaded") from exc
    except OSError as exc:
        raise LocalFileError(f"{path}: {exc.strerror or exc}") from exc


def _range_sha256(path: Path, length: int, block: int = 1 << 20) -> str:
    import hashlib

    h = hashlib.sha256()
    remaining = length
    try:
        with open(path, "rb") as f:
            while remaining > 0:
                buf = f.read(min(block, remaining))
                if not buf:
                    raise LocalFileError(f"{path}: the file shrank while it was being uploaded")
                h.update(buf)
                remaining -= len(buf)
    except OSError as exc:
        raise LocalFileError(f"{path}: {exc}") from exc
    return h.hexdigest()


def check_uploadable(path: Path) -> None:
    """Clear errors for the usual bad inputs (before anything is journaled)."""
    if not path.exists():
        raise LocalFileError(f"{path}: no such file")
    if path.is_dir():
        raise LocalFileError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise LocalFileError(f"{path}: permission denied (the file is not readable)")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise LocalFileError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if path.stat().st_size == 0:
        raise LocalFileError(f"{path}: the file is empty, there is nothing to upload")
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS and suffix not in VIDEO_EXTENSIONS:
        raise LocalFileError(f"{path}: unsupported file type {suffix or '(none)'}; Snaplark uploads "
                             f"PNG/JPEG screenshots and WebM/MP4 recordings")


__all__ = ["UploadEngine", "RecordingUpload", "UploadFailed", "CorruptLocalFile", "LocalFileError",
           "check_uploadable", "file_sha256"]
