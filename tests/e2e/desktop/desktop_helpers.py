"""Helpers shared by the desktop e2e tests (uniquely named so it never collides with another conftest)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.procutil import tray_selection_owned, wait_until  # noqa: F401 (re-exported for the desktop tests)


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"missing tools: {', '.join(missing)}"
        if os.environ.get("SNAPLARK_REQUIRE_ALL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
