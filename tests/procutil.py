"""Process helpers shared by test fixtures and benchmarks."""

from __future__ import annotations

import signal


def die_with_parent() -> None:
    """``preexec_fn`` for fixture daemons: the kernel sends them SIGTERM when the process that started them dies
    (even by SIGKILL or a CI timeout), so no orphaned Xvfb/dbus-daemon outlives a run and confuses the next one.
    Linux only (prctl); elsewhere it does nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
