"""End-to-end tests share one process with Tk roots, GTK and D-Bus threads."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def _collect_tk_garbage_on_main_thread():
    """Tk objects must die on the thread that made them: a cycle holding a Tk image or interpreter collected later
    by a garbage-collection pass that happens to run on a helper thread (D-Bus, HTTP) aborts the whole process
    (Tcl_AsyncDelete). Collect after every e2e test, here, on the main thread."""
    yield
    gc.collect()


@pytest.fixture
def desktop_capture() -> dict:
    """``[capture]`` settings of the whole-app ``desktop`` fixture (tests/e2e/test_desktop_app.py) over its
    defaults (no countdown, 10 fps); a test module overrides this fixture to record differently."""
    return {}
