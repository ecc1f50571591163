"""The upload session state machine of the seed, made explicit.

``IDLE → INITIALIZING → UPLOADING → FINALIZING → COMPLETED`` plus ``PAUSED_OFFLINE``, ``AUTH_REQUIRED`` and
``FAILED``. :data:`TRANSITIONS` is the whole table; :class:`SessionStateMachine` refuses anything else with
:class:`IllegalTransition` and reports every accepted change to a callback (the engine persists it in the journal,
then publishes it as an event).

Threading: a machine belongs to one upload worker; ``state`` may be read from any thread.
"""

from __future__ import annotations

import enum
from typing import Callable


class UploadState(enum.Enum):
    IDLE = "idle"
    INITIALIZING = "initializing"
    UPLOADING = "uploading"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    PAUSED_OFFLINE = "paused_offline"
    AUTH_REQUIRED = "auth_required"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (UploadState.COMPLETED, UploadState.FAILED)


S = UploadState
_ACTIVE = (S.INITIALIZING, S.UPLOADING, S.FINALIZING)

#: Allowed transitions. Waiting states (offline, auth) return to whichever active state needs to run next.
TRANSITIONS: dict[UploadState, frozenset[UploadState]] = {
    # IDLE: a new session, or a journal session being resumed (it may already hold a server session).
    S.IDLE: frozenset({*_ACTIVE, S.PAUSED_OFFLINE, S.AUTH_REQUIRED, S.FAILED}),
    S.INITIALIZING: frozenset({S.UPLOADING, S.PAUSED_OFFLINE, S.AUTH_REQUIRED, S.FAILED}),
    # UPLOADING → INITIALIZING: the server lost the session (404/410), re-init and replay.
    # UPLOADING → COMPLETED: a screenshot is one request, there is nothing to finalize.
    S.UPLOADING: frozenset({S.FINALIZING, S.COMPLETED, S.INITIALIZING, S.PAUSED_OFFLINE, S.AUTH_REQUIRED, S.FAILED}),
    # FINALIZING → UPLOADING: 409 incomplete, re-send the missing parts.
    S.FINALIZING: frozenset({S.COMPLETED, S.UPLOADING, S.INITIALIZING, S.PAUSED_OFFLINE, S.AUTH_REQUIRED,
                             S.FAILED}),
    S.PAUSED_OFFLINE: frozenset({*_ACTIVE, S.AUTH_REQUIRED, S.FAILED}),
    S.AUTH_REQUIRED: frozenset({*_ACTIVE, S.PAUSED_OFFLINE, S.FAILED}),
    S.COMPLETED: frozenset(),
    # A failed upload keeps its file and journal; the user may retry it (back to IDLE).
    S.FAILED: frozenset({S.IDLE}),
}


class IllegalTransition(RuntimeError):
    def __init__(self, old: UploadState, new: UploadState):
        super().__init__(f"illegal upload state transition {old.name} → {new.name}")
        self.old = old
        self.new = new


def can_transition(old: UploadState, new: UploadState) -> bool:
    return new in TRANSITIONS[old]


class SessionStateMachine:
    """Current state of one upload plus the table check.

    ``on_change(old, new, reason)`` runs before :meth:`transition` returns, so a caller that persists there has the
    state committed before it acts on it. If ``on_change`` raises, the state is left unchanged.
    """

    def __init__(self, initial: UploadState = UploadState.IDLE,
                 on_change: Callable[[UploadState, UploadState, str], None] | None = None):
        self._state = initial
        self._on_change = on_change

    @property
    def state(self) -> UploadState:
        return self._state

    def transition(self, new: UploadState, reason: str = "") -> UploadState:
        old = self._state
        if old is new:
            return old
        if not can_transition(old, new):
            raise IllegalTransition(old, new)
        if self._on_change is not None:
            self._on_change(old, new, reason)
        self._state = new
        return old
