"""Process helpers shared by test fixtures and benchmarks: required tools, daemons that die with the test
process, bounded stops, and a private Xvfb."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

REQUIRE_ALL = os.environ.get("SNAPLARK_REQUIRE_ALL") == "1"


def need_tool(*names: str) -> None:
    """Skip the test when a tool is missing; under ``SNAPLARK_REQUIRE_ALL=1`` (CI) fail instead."""
    import pytest

    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        msg = f"needs {', '.join(missing)} (apt-get install them; .ci/run does)"
        if REQUIRE_ALL:
            pytest.fail(msg)
        pytest.skip(msg)


def die_with_parent() -> None:
    """``preexec_fn`` for fixture daemons: the kernel sends them SIGTERM when the process that started them dies
    (even by SIGKILL or a CI timeout), so no orphaned Xvfb/dbus-daemon outlives a run and confuses the next one.
    Linux only (prctl); elsewhere it does nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def stop_process(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; every wait bounded."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def wait_until(predicate, timeout: float, what: str = "condition", interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` s pass (TimeoutError)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def start_xvfb(width: int, height: int, timeout: float = 20.0) -> tuple[subprocess.Popen, str]:
    """Xvfb on a free display (``-displayfd`` reports the number once it accepts clients). ``-noreset``: without it
    the server resets whenever its last client leaves and refuses new clients meanwhile, at random."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
         "-ac", "-noreset", "+extension", "RANDR"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    os.close(write_fd)
    deadline = time.monotonic() + timeout
    data = b""
    with os.fdopen(read_fd, "rb", buffering=0) as f:
        os.set_blocking(f.fileno(), False)
        while time.monotonic() < deadline and not data.endswith(b"\n"):
            chunk = f.read()
            if chunk:
                data += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.02)
    if not data.strip():
        stop_process(proc)
        raise RuntimeError(f"Xvfb did not report a display number within {timeout:g} s")
    return proc, f":{data.decode().strip()}"


def tray_selection_owned() -> bool:
    """True once some client owns the _NET_SYSTEM_TRAY_S0 selection (a tray host runs on $DISPLAY)."""
    from Xlib import display as xdisplay

    d = xdisplay.Display()
    try:
        return d.get_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0")) != 0
    finally:
        d.close()


def start_tray_host(*extra: str, timeout: float = 10.0) -> subprocess.Popen:
    """``trayer`` as the XEmbed system tray host on $DISPLAY, returned once it owns the tray selection."""
    import pytest

    proc = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120",
                             "--height", "32", "--SetDockType", "false", "--transparent", "false",
                             "--expand", "false", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: tray_selection_owned() or proc.poll() is not None, timeout, what="trayer")
    if proc.poll() is not None:
        pytest.fail("trayer exited")
    return proc
