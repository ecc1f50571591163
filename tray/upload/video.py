"""The seed's video protocol for one upload: init → chunk × n (part 0 last) → finalize, with resume and repair.

Parts are byte ranges of the local file, cut once ≥ 5 MiB are durable (:class:`~tray.upload.cutter.PartCutter`;
smaller, about one per second, when the server's init answer allows it); parts ≥ 1 stream while recording; part 0
waits for the muxer's close (it rewrites the header). After a restart the
server's ``/status`` says what it holds (a seed-only server has none: the journal is trusted). 404/410 on the
session → re-init and replay every part; 409 → re-send the listed parts; 422 checksum → re-read and re-send.

Threading: runs on its upload's worker thread, plus one helper thread that reads and hashes the next part while the
current one is on the wire (and hashes a finished file whole alongside the upload).
"""

from __future__ import annotations

import concurrent.futures
import logging
from typing import Any, Callable

from tray.api.client import ApiClient, VideoSession
from tray.api.errors import ChecksumMismatch, Incomplete, PermanentError, SessionGone
from tray.upload.context import EngineContext
from tray.upload.cutter import MIN_PART_SIZE, LocalFileError, PartCutter, read_range
from tray.upload.errors import CorruptLocalFile, Restart
from tray.upload.files import INIT_FIELDS, file_size, range_sha256
from tray.upload.journal import PartRecord
from tray.upload.links import UploadLinks
from tray.upload.part_sender import PartSender
from tray.upload.policy import CallPolicy
from tray.upload.session import IDLE_WAIT, RecordingUpload
from tray.upload.state import UploadState

log = logging.getLogger(__name__)

S = UploadState
MAX_CHECKSUM_MISMATCHES = 3
MAX_FINALIZE_ROUNDS = 5
RECORDER_FAILED_GRACE = 10.0  # after failed(), wait this long (engine clock) for finished() before finishing alone


class VideoProtocol:
    def __init__(self, ctx: EngineContext, upload: RecordingUpload, policy: CallPolicy,
                 go: Callable[[UploadState, str], None], complete: Callable[[str], None], *, part_size: int,
                 verify_whole_file: bool, resumed: bool):
        self.ctx = ctx
        self.u = upload
        self.policy = policy
        self._go = go
        self._complete = complete
        self.part_size = part_size
        self.verify_whole_file = verify_whole_file
        self.resumed = resumed
        self.journal = ctx.journal
        self.sender = PartSender(policy, upload.id)  # straight to storage when offered (part_sender.py)
        self.cutter: PartCutter | None = None
        self._finish_cut = False
        self._helper: concurrent.futures.ThreadPoolExecutor | None = None
        self._prefetch: tuple[PartRecord, concurrent.futures.Future] | None = None
        self._whole: concurrent.futures.Future | None = None

    def close(self) -> None:
        if self._helper is not None:
            self._helper.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ top level
    def run(self, client: ApiClient) -> None:
        u = self.u
        self.cutter = _cutter_from_parts(u.path, self.part_size, u.parts())
        if self.resumed:
            self._prepare_resume()
        sink = u.sink_state()
        if self.verify_whole_file and sink.finished and sink.total:
            # complete before the upload starts (upload_file, resume): hash it alongside. A live recording is not
            # hashed whole: that would make stop→link time grow with its length; the server checks every part.
            self._whole = self._submit(range_sha256, u.path, sink.total)
        while True:
            try:
                if u.server_session_id is None:
                    self._init(client)
                elif self.resumed:
                    self.resumed = False
                    self._sync_with_server(client)
                self._upload_loop(client)
                return
            except Restart:
                continue

    def _submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        if self._helper is None:
            self._helper = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"upload-{self.u.id}-read")
        return self._helper.submit(fn, *args)

    def _prepare_resume(self) -> None:
        """A session found in the journal after a restart: a recording that never finished ends where the file
        ends now (the recorder is gone)."""
        u = self.u
        if u.sink_state().finished:
            return
        size = file_size(u.path)
        assert self.cutter is not None
        if size < self.cutter.next_offset:
            raise LocalFileError(f"{u.path}: the file shrank to {size} bytes, {self.cutter.next_offset} were "
                                 f"already cut into parts")
        log.info("upload %s: the recording was interrupted; uploading the %d bytes on disk", u.id, size)
        u.finished(size, float(u.metadata.get("duration", 0.0) or 0.0), {"recordingInterrupted": True})

    # ------------------------------------------------------------------ sessions
    def _init(self, client: ApiClient) -> None:
        u = self.u
        self._go(S.INITIALIZING, "creating a server session")
        meta = {k: u.metadata[k] for k in INIT_FIELDS if k in u.metadata}
        answer = self.policy.call(client, lambda: client.video_init_session(meta))
        session_id = answer.session_id
        self.journal.reset_acks(u.id, session_id)
        u.new_server_session(session_id)
        self.sender.offer(answer.direct_parts)
        self._stream_parts(answer)
        self._go(S.UPLOADING, f"session {session_id}")

    def _stream_parts(self, answer: VideoSession) -> None:
        """A live recording to a server that accepts parts under 5 MiB: send them as they become durable, so
        stop→link no longer waits for a 5 MiB part 0 and up to 5 MiB of tail (cutter.py)."""
        assert self.cutter is not None
        if answer.min_part_size is None or self.u.sink_state().finished:
            return
        if self.cutter.stream(answer.min_part_size, answer.max_parts):
            log.info("upload %s: the server accepts %d-byte parts; streaming parts as they become durable",
                     self.u.id, answer.min_part_size)

    def _replay(self, reason: str) -> None:
        """The server lost the session: forget the acks and start over with a new session."""
        log.warning("upload %s: %s; re-initialising and replaying every part", self.u.id, reason)
        self.journal.reset_acks(self.u.id, None)
        self.u.new_server_session(None)
        raise Restart()

    def _sync_with_server(self, client: ApiClient) -> None:
        """After a restart: trust the server's list of parts (or our journal if the server cannot tell)."""
        u = self.u
        self._go(S.UPLOADING, "resuming")
        sid = u.server_session_id
        assert sid is not None
        try:
            status = self.policy.call(client, lambda: client.video_status(sid))
        except SessionGone as exc:
            self._replay(f"session {sid} is gone ({exc})")
        if status is None:
            log.info("upload %s: the server has no status endpoint; trusting the journal", u.id)
            return
        self.sender.offer(status.get("directParts") is True)  # said again for a resumed session
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
        for p in u.parts():
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
        u.set_acked(acked)
        missing = [i for i, ok in acked.items() if not ok]
        log.info("upload %s: server holds %d of %d parts; re-sending %s", u.id, len(acked) - len(missing),
                 len(acked), missing)

    # ------------------------------------------------------------------ parts
    def _upload_loop(self, client: ApiClient) -> None:
        u = self.u
        ctx = self.ctx
        finalize_rounds = 0
        while True:
            ctx.check_stop()
            self._cut_available()
            part = u.next_part()
            if part is not None:
                self._send_part(client, part)
                continue
            if u.ready_to_finalize():
                finalize_rounds += 1
                if finalize_rounds > MAX_FINALIZE_ROUNDS:
                    raise PermanentError(f"the server kept refusing to finalize upload {u.id}")
                if self._finalize(client):
                    return
                continue
            self._after_recorder_failure()
            seen = u.sink_state()
            ctx.wait_for_change(IDLE_WAIT, lambda: u.sink_state() != seen)

    def _after_recorder_failure(self) -> None:
        u = self.u
        sink = u.sink_state()
        if sink.recorder_failure is None or sink.finished:
            return
        reason, at = sink.recorder_failure
        try:
            size = u.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size == 0:
            raise LocalFileError(f"the recording failed before anything was written ({reason}); nothing to upload")
        if self.ctx.clock() - at >= RECORDER_FAILED_GRACE:
            log.warning("upload %s: no finished() after the recording failed; uploading the %d bytes on disk",
                        u.id, size)
            u.finished(size, float(sink.duration or 0.0), {})

    def _cut_available(self) -> None:
        u = self.u
        assert self.cutter is not None
        sink = u.sink_state()
        durable = sink.durable
        if sink.finished and not self._finish_cut:
            new = self.cutter.finish(sink.total if sink.total is not None else durable)
            self._finish_cut = True
        elif not sink.finished:
            new = self.cutter.cut(durable)
        else:
            new = []
        if new:
            self.journal.add_parts(u.id, new, durable_bytes=max(durable, self.cutter.next_offset))
            u.add_parts(new)
            self.ctx.maybe_progress(u)

    def _send_part(self, client: ApiClient, part: PartRecord) -> None:
        u = self.u
        if u.state is not S.UPLOADING:
            self._go(S.UPLOADING, f"sending part {part.index}")
        mismatches = 0
        while True:
            data, sha = self._read(part, allow_prefetched=mismatches == 0)
            u.part_hashed(part, sha)
            self._prefetch_next(part)
            sid = u.server_session_id
            try:
                self.sender.send(client, sid, part.index, data, sha)
            except ChecksumMismatch as exc:
                mismatches += 1
                u.part_refused(part.index)
                if mismatches >= MAX_CHECKSUM_MISMATCHES:
                    raise CorruptLocalFile(f"{u.path}: part {part.index} failed the server's checksum "
                                           f"{mismatches} times in a row; the local file looks corrupt") from exc
                log.warning("upload %s: checksum mismatch on part %d (%s); re-reading it from disk",
                            u.id, part.index, exc)
                continue
            except SessionGone as exc:
                self._replay(f"session {sid} is gone ({exc})")
            break
        self.journal.mark_acked(u.id, part.index, sha)
        u.part_acked(part)
        self.ctx.maybe_progress(u)

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
        later = self.u.unacked_after(current.index)
        nxt = later[0] if later and current.index != 0 else None
        if nxt is not None and self.cutter is not None:
            self._prefetch = (nxt, self._submit(self.cutter.read, nxt))

    # ------------------------------------------------------------------ finalize
    def _finalize(self, client: ApiClient) -> bool:
        u = self.u
        self._go(S.FINALIZING, "all parts sent")
        parts, total, duration, metadata = u.finalize_inputs()
        size = file_size(u.path)
        if total is not None and size < total:
            raise LocalFileError(f"{u.path}: the file shrank to {size} bytes during the upload ({total} expected)")
        whole = self._whole.result() if self._whole is not None else None
        sid = u.server_session_id
        indices = [p.index for p in parts]
        try:
            body = self.policy.call(client, lambda: client.video_finalize(
                sid, len(parts), indices, duration, metadata, whole, expires_in=metadata.get("expiresIn")))
        except Incomplete as exc:
            missing = [i for i in exc.missing if 0 <= i < len(parts)]
            if not missing:  # the server did not say what it lacks: ask it, else resend everything
                status = self.policy.call(client, lambda: client.video_status(sid))
                if status is not None:
                    self._apply_server_parts(status)
                    missing = [p.index for p in u.parts() if not p.acked]
                if not missing:
                    missing = indices
            log.warning("upload %s: server lacks parts %s; re-sending them", u.id, missing)
            self._unack(missing, f"server lacks parts {missing}")
            return False
        except ChecksumMismatch as exc:
            log.warning("upload %s: whole-file checksum refused (%s); re-sending every part", u.id, exc)
            self._unack(indices, "whole-file checksum mismatch")
            return False
        except SessionGone as exc:
            self._replay(f"session {sid} is gone at finalize ({exc})")
        self._complete(UploadLinks.from_answer(body))
        return True

    def _unack(self, indices: list[int], reason: str) -> None:
        acked = {i: False for i in indices}
        self.journal.set_acked(self.u.id, acked)
        self.u.set_acked(acked)
        self._go(S.UPLOADING, reason)


def _cutter_from_parts(path: Any, part_size: int, parts: list[PartRecord]) -> PartCutter:
    """Parts cut by an earlier run keep their boundaries, and later cuts keep that run's part size."""
    if parts and parts[0].length >= MIN_PART_SIZE:
        part_size = parts[0].length
    return PartCutter(path, part_size, parts=parts)
