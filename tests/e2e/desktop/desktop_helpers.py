"""Helpers shared by the desktop e2e tests (uniquely named so it never collides with another conftest)."""

from __future__ import annotations

import os
import shutil
import time

import pytest


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def tray_selection_owned() -> bool:
    """True once some client owns the _NET_SYSTEM_TRAY_S0 selection (checked with python-xlib)."""
    from Xlib import display as xdisplay

    d = xdisplay.Display()
    try:
        atom = d.intern_atom("_NET_SYSTEM_TRAY_S0")
        return d.get_selection_owner(atom) != 0
    finally:
        d.close()


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"missing tools: {', '.join(missing)}"
        if os.environ.get("SNAPLARK_REQUIRE_ALL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
