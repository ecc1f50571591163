"""Background media jobs: a video's duration, dimensions and poster are measured after its finalize has answered.

Measuring reads the whole stored video (PyAV demuxes every packet for the duration; from S3 that is a full
download), so it no longer runs before the finalize answer. Finalize inserts a ``media_jobs`` row in the same
transaction as the object (`enqueue`), then wakes the worker; the page shows no duration and no poster until the
job is done (share_routes.py). The row stays ``pending`` until the job ends, so a server that stops or dies
mid-job picks it up again at its next start; ``attempts`` is counted before each run, so a video that kills the
process every time is given up after ``MAX_ATTEMPTS`` (``failed``).

Several instances on one PostgreSQL database: a job is claimed by a compare-and-set on its ``attempts`` and
``updated_at`` (only one instance wins each attempt), and a claimed job is only taken again once ``lease`` seconds
have passed since its claim (its instance died). With SQLite there is one process, so ``lease`` is 0: whatever is
pending at start is run at once. Idle workers look for jobs every ``POLL_INTERVAL`` seconds as well as when woken, so
jobs another instance left behind are found.

Threading contract: one worker thread per server process runs the jobs one after another (measuring is CPU-heavy;
the host runs the uploads too). `enqueue` runs inside the caller's write transaction; `wake`, `start`, `stop` and
`wait_idle` may be called from any thread. ``before_job(object_id, kind)`` (tests: hold a job on an event) is
called on the worker thread before each run; a job that finds the service stopping afterwards is left pending.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from .db import Database

log = logging.getLogger(__name__)

MEASURE = "measure"  # the kind of job finalize enqueues: probe + poster (shares.ShareService.measure_video)
MAX_ATTEMPTS = 3
RETRY_DELAY = 30.0  # seconds before a job that failed for a passing reason (storage unavailable ...) runs again
JOB_LEASE = 600.0  # several instances: a job claimed this long ago whose row is still pending is taken again
POLL_INTERVAL = 30.0


class PermanentJobError(Exception):
    """The job can never succeed (e.g. the bytes are not a video PyAV can read): marked ``failed`` at once."""


class MediaJobs:
    """See the module docstring for the threading contract."""

    def __init__(self, db: Database, runners: dict[str, Callable[[str], None]],
                 clock: Callable[[], float] = time.time, retry_delay: float = RETRY_DELAY,
                 lease: float = 0.0) -> None:
        self.db = db
        self.runners = runners
        self.clock = clock
        self.retry_delay = retry_delay
        self.lease = lease
        self.before_job: Callable[[str, str], None] | None = None
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._not_before: dict[tuple[str, str], float] = {}  # time.monotonic() of a retry after a passing error
        self._thread: threading.Thread | None = None

    # --- producers --------------------------------------------------------------------------------------------

    def enqueue(self, conn: Any, object_id: str, kind: str = MEASURE) -> None:
        """Add (or re-arm) a job inside the caller's write transaction; call `wake` after the commit."""
        now = self.clock()
        updated = conn.execute("UPDATE media_jobs SET state = 'pending', attempts = 0, error = NULL, updated_at = ?"
                               " WHERE object_id = ? AND kind = ?", (now, object_id, kind)).rowcount
        if not updated:
            conn.execute("INSERT INTO media_jobs (object_id, kind, state, attempts, created_at, updated_at)"
                         " VALUES (?, ?, 'pending', 0, ?, ?)", (object_id, kind, now, now))

    def wake(self, *_: Any) -> None:
        self._wake.set()

    # --- the worker -------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="snaplark-media-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the worker to stop after its current job; True when it has (a measurement cannot be interrupted:
        after ``timeout`` the daemon thread is left to finish and its job stays pending if it does not)."""
        self.stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def pending(self) -> list[Any]:
        return self.db.query("SELECT object_id, kind, attempts, updated_at FROM media_jobs WHERE state = 'pending'"
                             " ORDER BY created_at, object_id")

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is pending or running (jobs waiting for a retry count as pending); True if so."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy or self.pending():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.set()
                self._idle.wait(min(left, 0.05))
        return True

    def claimable(self) -> list[Any]:
        """The pending jobs this worker may claim now: not waiting for a retry here, and not claimed by another
        instance within the lease."""
        now, wall = time.monotonic(), self.clock()
        return [row for row in self.pending()
                if self._not_before.get((row["object_id"], row["kind"]), 0.0) <= now
                and not (row["attempts"] and row["updated_at"] > wall - self.lease)]

    def _next(self) -> Any | None:
        jobs = self.claimable()
        return jobs[0] if jobs else None

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                with self._idle:
                    job = self._next()
                    self._busy = job is not None
                if job is None:
                    with self._idle:
                        self._idle.notify_all()
                    self._wake.wait(self._sleep_time())
                    self._wake.clear()
                    continue
                self._run(job["object_id"], job["kind"], job["attempts"], job["updated_at"])
            except Exception:  # the database itself failed: never let the worker die, try again later
                log.exception("media job worker")
                self.stopping.wait(1.0)
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()

    def _sleep_time(self) -> float:
        if not self._not_before:
            return POLL_INTERVAL
        return min(POLL_INTERVAL, max(0.01, min(self._not_before.values()) - time.monotonic()))

    def _finish(self, object_id: str, kind: str, state: str, error: str | None = None) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE media_jobs SET state = ?, error = ?, updated_at = ? WHERE object_id = ? AND kind = ?"
                         " AND state = 'pending'", (state, error, self.clock(), object_id, kind))
        self._not_before.pop((object_id, kind), None)

    def _run(self, object_id: str, kind: str, attempts: int, updated_at: float) -> None:
        runner = self.runners.get(kind)
        if runner is None:
            self._finish(object_id, kind, "failed", f"no runner for job kind {kind!r}")
            return
        if attempts >= MAX_ATTEMPTS:  # it ended the process (or failed) every time it ran
            log.error("media job %s of %s: given up after %d attempts", kind, object_id, attempts)
            self._finish(object_id, kind, "failed", f"given up after {attempts} attempts")
            return
        if self.before_job is not None:
            self.before_job(object_id, kind)
        if self.stopping.is_set():
            return  # left pending: the next start runs it
        with self.db.write() as conn:  # the claim: nobody else took this attempt meanwhile
            claimed = conn.execute("UPDATE media_jobs SET attempts = attempts + 1, updated_at = ? WHERE object_id = ?"
                                   " AND kind = ? AND state = 'pending' AND attempts = ? AND updated_at = ?",
                                   (self.clock(), object_id, kind, attempts, updated_at)).rowcount
        if claimed != 1:
            return
        try:
            runner(object_id)
        except PermanentJobError as exc:
            log.warning("media job %s of %s failed: %s", kind, object_id, exc)
            self._finish(object_id, kind, "failed", str(exc)[:500])
        except Exception as exc:
            if attempts + 1 >= MAX_ATTEMPTS:
                log.exception("media job %s of %s failed %d times; given up", kind, object_id, attempts + 1)
                self._finish(object_id, kind, "failed", f"{type(exc).__name__}: {exc}"[:500])
            else:
                log.warning("media job %s of %s failed (%s: %s); retrying in %.0f s", kind, object_id,
                            type(exc).__name__, exc, self.retry_delay)
                self._not_before[(object_id, kind)] = time.monotonic() + self.retry_delay
        else:
            self._finish(object_id, kind, "done")


__all__ = ["MAX_ATTEMPTS", "MEASURE", "MediaJobs", "PermanentJobError"]
