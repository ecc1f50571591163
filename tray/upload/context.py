"""What every upload and worker of one :class:`~tray.upload.engine.UploadEngine` shares, behind methods.

One Condition (the sleeper's) guards the engine's shared state and each upload's sink state, and wakes every wait:
stop, back online, a login, new bytes. Events are published outside the lock. Threading: every method may be
called from any thread; nothing here blocks on the network.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Callable, Protocol

from tray.upload.backoff import Backoff, Sleeper
from tray.upload.errors import Stopped
from tray.upload.events import UploadProgress
from tray.upload.journal import UploadJournal
from tray.upload.progress import ProgressSnapshot

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25  # at most 4 progress events per second per upload


class ProgressSource(Protocol):
    id: int

    def progress_due(self, now: float, interval: float, force: bool) -> bool: ...

    def progress(self) -> ProgressSnapshot: ...


class EngineContext:
    def __init__(self, journal: UploadJournal, *, clock: Callable[[], float], sleeper: Sleeper,
                 rng: random.Random, on_event: Callable[[object], None] | None,
                 backoff_schedule: tuple[float, ...] | None):
        self.journal = journal
        self.clock = clock
        self.sleeper = sleeper
        self.cond: threading.Condition = sleeper.condition
        self.rng = rng
        self._on_event = on_event
        self._backoff_schedule = backoff_schedule
        self._stopping = False
        self._auth_generation = 0
        self._online_generation = 0
        self.is_online = True
        self.auth_required = False

    # ------------------------------------------------------------------ stop
    @property
    def stopping(self) -> bool:
        return self._stopping

    def request_stop(self) -> None:
        with self.cond:
            self._stopping = True
            self.cond.notify_all()

    def check_stop(self) -> None:
        if self._stopping:
            raise Stopped()

    def sleep(self, seconds: float, wake: Callable[[], bool] | None = None) -> None:
        """Back off for ``seconds`` (scaled by the sleeper); ends early on stop (raises Stopped) or ``wake()``."""
        self.sleeper.sleep(seconds, lambda: self._stopping or (wake is not None and wake()))
        self.check_stop()

    def wait_for_change(self, timeout: float, changed: Callable[[], bool]) -> None:
        """Real-time wait (not scaled) until ``changed()`` or stop."""
        self.sleeper.wait_event(timeout, lambda: self._stopping or changed())

    def notify(self) -> None:
        with self.cond:
            self.cond.notify_all()

    # ------------------------------------------------------------------ login and connectivity
    def login_generation(self) -> int:
        """Bumped by every login. A plain read (no lock): also called inside the sleeper's wait predicate."""
        return self._auth_generation

    def enter_auth_required(self) -> int:
        """A 401: returns the login generation to wait past."""
        with self.cond:
            self.auth_required = True
            return self._auth_generation

    def leave_auth_required(self) -> None:
        with self.cond:
            self.auth_required = False

    def auth_restored(self) -> None:
        with self.cond:
            self._auth_generation += 1
            self.auth_required = False
            self.cond.notify_all()

    def online_generation(self) -> int:
        """Bumped when the network may be back. A plain read (no lock), like :meth:`login_generation`."""
        return self._online_generation

    def network_changed(self) -> None:
        with self.cond:
            self._online_generation += 1
            self.cond.notify_all()

    def set_online(self, online: bool) -> None:
        with self.cond:
            if online and not self.is_online:
                self._online_generation += 1
                self.cond.notify_all()
            self.is_online = online

    def new_backoff(self, schedule: tuple[float, ...] | None = None) -> Backoff:
        schedule = schedule or self._backoff_schedule
        return Backoff(self.rng, schedule=schedule) if schedule else Backoff(self.rng)

    # ------------------------------------------------------------------ events
    def publish(self, event: object) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken subscriber must not break uploads
            log.exception("upload event handler failed on %r", event)

    def maybe_progress(self, upload: ProgressSource, force: bool = False) -> None:
        """Publish the upload's progress unless one went out less than PROGRESS_INTERVAL ago (``force``: always)."""
        if upload.progress_due(self.clock(), PROGRESS_INTERVAL, force):
            self.publish(UploadProgress(upload.id, upload.progress()))
