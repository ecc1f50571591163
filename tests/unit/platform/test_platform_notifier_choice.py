from __future__ import annotations

import pytest

from tray.ui.notifications import notifier_candidates, open_notifier
from tray_platform.base import BackendUnavailable, choose_backend


def test_missing_dbus_service_falls_back_to_log_and_tells_user_once(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    monkeypatch.delenv("SNAPLARK_NOTIFIER", raising=False)
    monkeypatch.setattr("tray_platform.base.current_os", lambda: "linux")
    told = []
    sel = open_notifier(tell_user=told.append)
    assert sel.backend == "fallback:create_log"
    assert "linux" in sel.errors and "session D-Bus" in sel.errors["linux"]
    assert len(told) == 1 and "unavailable" in told[0]
    # the fallback is usable
    nid = sel.notifier.progress("Uploading", "x", 5)
    assert sel.notifier.progress("Uploading", "x", 50, replaces=nid) == nid


def test_env_override_picks_named_backend(monkeypatch):
    monkeypatch.setenv("SNAPLARK_NOTIFIER", "fallback:create_log")
    sel = open_notifier(tell_user=lambda m: pytest.fail("no fallback happened"))
    assert sel.backend == "fallback:create_log" and not sel.degraded


def test_env_override_to_broken_backend_still_gives_a_notifier(monkeypatch):
    monkeypatch.setenv("SNAPLARK_NOTIFIER", "nosuchos")
    told = []
    sel = open_notifier(tell_user=told.append)
    assert sel.backend == "fallback:create_log" and "nosuchos" in sel.errors and len(told) == 1


def test_candidates_per_os():
    assert notifier_candidates("linux") == ["linux", "fallback:create_log"]
    assert notifier_candidates("windows") == ["windows", "fallback", "fallback:create_log"]


def test_choose_backend_module_factory_syntax_and_errors():
    choice = choose_backend("notify", ["nosuch", "fallback:create_log"])
    assert choice.name == "fallback:create_log" and "nosuch" in choice.errors
    with pytest.raises(BackendUnavailable) as info:
        choose_backend("notify", ["nosuch", "fallback:no_factory"])
    assert set(info.value.errors) == {"nosuch", "fallback:no_factory"}
