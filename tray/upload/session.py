"""One upload: the recorder's sink, a locked view of its parts for its worker, a progress source, a future for the URL.

Threading: the sink (``durable``/``finished``/``failed``) is called by the recorder on any thread; it journals and
wakes the worker, never blocks on the network. The worker reads and changes the upload only through the methods
below; every one of them takes the engine's Condition (``ctx.cond``), so a reader never sees half an update.
"""

from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tray.upload.context import EngineContext
from tray.upload.errors import LoginRequired, UploadFailed
from tray.upload.journal import JournalError, PartRecord, SessionRecord
from tray.upload.progress import ProgressSnapshot
from tray.upload.state import SessionStateMachine, UploadState

log = logging.getLogger(__name__)

S = UploadState
IDLE_WAIT = 1.0  # bound of one wait for new bytes / login (re-checked in a loop)
RATE_WINDOW = 5.0


@dataclass(frozen=True)
class SinkState:
    """What the recorder has said so far."""

    durable: int
    finished: bool
    total: int | None
    duration: float | None
    recorder_failure: tuple[str, float] | None  # (reason, engine clock at failure)


class RecordingUpload:
    def __init__(self, ctx: EngineContext, record: SessionRecord):
        self._ctx = ctx
        self.id = record.id
        self.kind = record.kind
        self.path = Path(record.local_path)
        self.metadata: dict[str, Any] = dict(record.metadata)
        self.server_session_id: str | None = record.server_session_id
        self.url: str | None = record.url  # the link handed to the user (upload.copy: the page or the file)
        self.file_url: str | None = record.url  # the file itself (the server's url)
        self.expires_at: str | None = None  # the server's expiresAt when it took metadata["expiresIn"] (this run)
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
        ctx = self._ctx
        with ctx.cond:
            if self._finished or nbytes <= self._durable:
                return
            self._durable = int(nbytes)
        try:
            ctx.journal.update_durable(self.id, int(nbytes))
        except JournalError as exc:  # the file is the spool; the worker reports the journal failure
            log.error("upload %s: %s", self.id, exc)
        ctx.notify()
        ctx.maybe_progress(self)

    def finished(self, total_bytes: int, duration: float, metadata: dict[str, Any] | None = None) -> None:
        """The file is closed and complete at ``total_bytes``."""
        ctx = self._ctx
        merged = {**self.metadata, **(metadata or {})}
        with ctx.cond:
            if self._finished:
                return
            self._finished = True
            self._total = int(total_bytes)
            self._durable = max(self._durable, int(total_bytes))
            self._duration = float(duration or 0.0)
            self.metadata = merged
        try:
            ctx.journal.update_session(self.id, finished=True, total_size=int(total_bytes),
                                       durable_bytes=int(total_bytes), duration=float(duration or 0.0),
                                       metadata=merged)
        except JournalError as exc:
            log.error("upload %s: %s", self.id, exc)
        ctx.notify()

    def failed(self, reason: str) -> None:
        """The recording aborted. Per the sink contract ``finished`` normally follows and what was written is
        uploaded; if the file is gone (nothing was recorded) the upload ends FAILED; if ``finished`` never comes,
        the worker finishes the upload at the file's size after ``RECORDER_FAILED_GRACE`` seconds."""
        ctx = self._ctx
        log.warning("upload %s: the recording failed (%s); uploading what was written", self.id, reason)
        with ctx.cond:
            if self._finished:
                return
            self._recorder_failure = (str(reason), ctx.clock())
            self.metadata = {**self.metadata, "recordingError": str(reason)}
            metadata = dict(self.metadata)
        try:
            ctx.journal.update_session(self.id, metadata=metadata)
        except JournalError as exc:
            log.error("upload %s: %s", self.id, exc)
        ctx.notify()

    # ------------------------------------------------------------------ observation
    @property
    def state(self) -> UploadState:
        return self.machine.state

    @property
    def done(self) -> bool:
        return self.machine.state.terminal

    def progress(self) -> ProgressSnapshot:
        ctx = self._ctx
        with ctx.cond:
            parts = list(self._parts)
            total = self._total if self._finished else self._durable
            state = self.machine.state
            acked = sum(1 for p in parts if p.acked)
            sent = (sum(p.length for p in parts if p.acked) if self.kind == "video"
                    else (total or 0) * (state is S.COMPLETED))
            rate = 0.0
            if len(self._samples) >= 2:
                (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
                if t1 > t0:
                    rate = (b1 - b0) / (t1 - t0)
            return ProgressSnapshot(
                upload_id=self.id, kind=self.kind, state=state, parts_uploaded=acked,
                parts_pending=len(parts) - acked, parts_failed=len(self._failed_parts), bytes_sent=sent,
                bytes_total=total or 0, rate=rate, online=ctx.is_online, session_id=self.server_session_id,
                url=self.url, path=self.path, finished=self._finished,
                error=self.error if state is S.FAILED else None)

    def progress_due(self, now: float, interval: float, force: bool) -> bool:
        """True (and the time noted) when a progress event may go out now."""
        with self._ctx.cond:
            if not force and now - self._last_progress < interval:
                return False
            self._last_progress = now
            return True

    def wait(self, timeout: float | None = None, *, stop_on_login: bool = False) -> str:
        """Block until COMPLETED (returns the URL) or FAILED (raises :class:`UploadFailed`).

        Raises TimeoutError after ``timeout`` seconds (real time); ``None`` waits as long as it takes, in bounded
        slices. ``stop_on_login`` (a command-line caller, which cannot log in while it waits): AUTH_REQUIRED raises
        :class:`LoginRequired` at once; the upload stays in the journal for ``--resume`` after a login."""
        deadline = None if timeout is None else time.monotonic() + timeout
        cond = self._ctx.cond
        with cond:
            while not self.machine.state.terminal:
                if stop_on_login and self.machine.state is S.AUTH_REQUIRED:
                    raise LoginRequired(self.id, "the server refused the token (401)")
                remaining = IDLE_WAIT if deadline is None else deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"upload {self.id} still {self.machine.state.name} after {timeout} s")
                cond.wait(min(remaining, IDLE_WAIT))
        if self.machine.state is S.FAILED:
            raise UploadFailed(self.id, self.error or "upload failed")
        assert self.url is not None
        return self.url

    # ------------------------------------------------------------------ the worker's view (locked)
    def sink_state(self) -> SinkState:
        with self._ctx.cond:
            return SinkState(self._durable, self._finished, self._total, self._duration, self._recorder_failure)

    def parts(self) -> list[PartRecord]:
        """The parts cut so far (the list is a copy; the PartRecords are shared, change them through methods)."""
        with self._ctx.cond:
            return list(self._parts)

    def add_parts(self, new: list[PartRecord]) -> None:
        with self._ctx.cond:
            self._parts.extend(new)

    def next_part(self) -> PartRecord | None:
        """Lowest unacked part ≥ 1; part 0 only once the file is finished and every other part is acked."""
        with self._ctx.cond:
            for p in self._parts:
                if p.index >= 1 and not p.acked:
                    return p
            if self._finished and self._parts and not self._parts[0].acked:
                return self._parts[0]
        return None

    def unacked_after(self, index: int) -> list[PartRecord]:
        with self._ctx.cond:
            return [p for p in self._parts if p.index > index and not p.acked]

    def ready_to_finalize(self) -> bool:
        with self._ctx.cond:
            return self._finished and bool(self._parts) and all(p.acked for p in self._parts)

    def part_hashed(self, part: PartRecord, sha256: str) -> None:
        with self._ctx.cond:
            part.sha256 = sha256

    def part_acked(self, part: PartRecord) -> None:
        now = self._ctx.clock()
        with self._ctx.cond:
            part.acked = True
            self._failed_parts.discard(part.index)
            self._sample(now)

    def part_refused(self, index: int) -> None:
        with self._ctx.cond:
            self._failed_parts.add(index)

    def set_acked(self, acked: dict[int, bool]) -> None:
        """Parts whose index is in ``acked`` take that value (the journal was written first by the caller)."""
        with self._ctx.cond:
            for p in self._parts:
                if p.index in acked:
                    p.acked = acked[p.index]

    def new_server_session(self, session_id: str | None) -> None:
        """A (re-)init, or None when the server lost the session: every part must be sent again."""
        with self._ctx.cond:
            self.server_session_id = session_id
            for p in self._parts:
                p.acked = False

    def finalize_inputs(self) -> tuple[list[PartRecord], int | None, float, dict[str, Any]]:
        with self._ctx.cond:
            return list(self._parts), self._total, float(self._duration or 0.0), dict(self.metadata)

    def completed(self, url: str, file_url: str | None = None, expires_at: str | None = None) -> None:
        now = self._ctx.clock()
        with self._ctx.cond:
            self.url = url
            self.file_url = file_url or url
            self.expires_at = expires_at
            self._sample(now)

    # ------------------------------------------------------------------ internals
    def _on_state_change(self, old: UploadState, new: UploadState, reason: str) -> None:
        # persist first; FAILED is recorded in memory even when the journal cannot be written
        try:
            if new is not S.COMPLETED:  # COMPLETED: journal.complete() already wrote it with the history row
                # fsynced only when terminal: a restart resumes every unfinished session from IDLE whatever state
                # it was in, so a power loss rolling back e.g. IDLE -> UPLOADING loses nothing (and a screenshot's
                # upload waits for one fsync less)
                self._ctx.journal.set_state(self.id, new.value, error=self.error if new is S.FAILED else None,
                                            sync=new.terminal)
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
