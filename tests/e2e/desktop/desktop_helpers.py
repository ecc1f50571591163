"""Helpers shared by the desktop e2e tests (uniquely named so it never collides with another conftest)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.procutil import wait_until  # noqa: F401 (re-exported for the desktop tests)


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
