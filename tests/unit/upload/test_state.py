import pytest

from tray.upload.state import TRANSITIONS, IllegalTransition, SessionStateMachine, UploadState as S, can_transition


def test_happy_path_of_the_seed():
    seen = []
    m = SessionStateMachine(on_change=lambda old, new, reason: seen.append((old, new, reason)))
    for new in (S.INITIALIZING, S.UPLOADING, S.FINALIZING, S.COMPLETED):
        m.transition(new, new.name.lower())
    assert m.state is S.COMPLETED
    assert [(o, n) for o, n, _ in seen] == [(S.IDLE, S.INITIALIZING), (S.INITIALIZING, S.UPLOADING),
                                             (S.UPLOADING, S.FINALIZING), (S.FINALIZING, S.COMPLETED)]
    assert seen[-1][2] == "completed"


@pytest.mark.parametrize("old,new", [(S.IDLE, S.COMPLETED), (S.COMPLETED, S.UPLOADING), (S.INITIALIZING, S.FINALIZING),
                                     (S.COMPLETED, S.FAILED), (S.FAILED, S.UPLOADING), (S.PAUSED_OFFLINE, S.COMPLETED)])
def test_illegal_transitions_raise_and_leave_state(old, new):
    seen = []
    m = SessionStateMachine(old, on_change=lambda *a: seen.append(a))
    with pytest.raises(IllegalTransition) as info:
        m.transition(new)
    assert m.state is old and not seen
    assert old.name in str(info.value) and new.name in str(info.value)


def test_every_state_has_a_row_and_completed_is_terminal():
    assert set(TRANSITIONS) == set(S)
    assert TRANSITIONS[S.COMPLETED] == frozenset()
    assert S.COMPLETED.terminal and S.FAILED.terminal and not S.PAUSED_OFFLINE.terminal


@pytest.mark.parametrize("active", [S.INITIALIZING, S.UPLOADING, S.FINALIZING])
def test_waiting_states_return_to_any_active_state(active):
    for waiting in (S.PAUSED_OFFLINE, S.AUTH_REQUIRED):
        assert can_transition(active, waiting)
        assert can_transition(waiting, active)


def test_recovery_edges():
    assert can_transition(S.UPLOADING, S.INITIALIZING)   # session gone -> re-init
    assert can_transition(S.FINALIZING, S.UPLOADING)     # 409 incomplete
    assert can_transition(S.FAILED, S.IDLE)              # user retry


def test_failing_persistence_keeps_old_state():
    def boom(*_):
        raise RuntimeError("disk full")

    m = SessionStateMachine(on_change=boom)
    with pytest.raises(RuntimeError):
        m.transition(S.INITIALIZING)
    assert m.state is S.IDLE


def test_same_state_is_a_no_op():
    seen = []
    m = SessionStateMachine(S.UPLOADING, on_change=lambda *a: seen.append(a))
    m.transition(S.UPLOADING)
    assert not seen
