"""Logging: file + stderr handlers, thread names, redaction of tokens."""

from __future__ import annotations

import logging
import threading

import pytest

from tray import log as tlog


@pytest.fixture
def restore_root_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def test_file_and_stderr_with_thread_names(tmp_path, capsys, restore_root_logging):
    log_file = tlog.setup_logging(verbose=False, log_dir=tmp_path / "logs")
    assert log_file == tmp_path / "logs" / "snaplark.log"
    logger = logging.getLogger("tray.test")
    logger.debug("debug goes to the file only")
    t = threading.Thread(target=lambda: logger.info("hello from a worker"), name="upload-worker-7")
    t.start()
    t.join(5)
    for h in logging.getLogger().handlers:
        h.flush()
    text = log_file.read_text()
    assert "[upload-worker-7] tray.test: hello from a worker" in text
    assert "debug goes to the file only" in text
    err = capsys.readouterr().err
    assert err == ""  # without -v the terminal gets no INFO/DEBUG lines (issue 12, #13)
    logger.warning("disk almost full")
    err = capsys.readouterr().err
    assert err == "snaplark: WARNING: disk almost full\n"  # a plain sentence: no timestamp, no thread, no module


def test_verbose_puts_debug_on_stderr_and_setup_is_idempotent(tmp_path, capsys, restore_root_logging):
    tlog.setup_logging(verbose=False, log_dir=tmp_path)
    tlog.setup_logging(verbose=True, log_dir=tmp_path)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_snaplark", False)]
    assert len(ours) == 2
    logging.getLogger("tray.x").debug("details")
    err = capsys.readouterr().err
    assert err.count("details") == 1


def test_default_log_dir_is_env_override(tmp_path, monkeypatch, restore_root_logging):
    monkeypatch.setenv("SNAPLARK_LOG_DIR", str(tmp_path / "envlogs"))
    assert tlog.setup_logging() == tmp_path / "envlogs" / "snaplark.log"


def test_unwritable_log_dir_falls_back_to_stderr(tmp_path, capsys, restore_root_logging):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    assert tlog.setup_logging(log_dir=blocker / "logs") is None
    logging.getLogger("tray.y").warning("still visible")
    assert "still visible" in capsys.readouterr().err


def test_redaction_in_file_of_bearer_fields_and_registered_secrets(tmp_path, restore_root_logging):
    secret = "sl_9f8e7d6c5b4a3f2e1d0c"
    other = "another-secret-value-123"
    tlog.register_secret(other)
    log_file = tlog.setup_logging(log_dir=tmp_path)
    logger = logging.getLogger("tray.leaky")
    logger.info("headers: {'Authorization': 'Bearer %s'}", secret)
    logger.info("url https://x/api?token=%s&a=1", secret)
    logger.info('body {"token": "%s"}', secret)
    logger.info("registered %s appears", other)
    try:
        raise RuntimeError(f"failed with {other}")
    except RuntimeError:
        logger.exception("oops")
    for h in logging.getLogger().handlers:
        h.flush()
    text = log_file.read_text()
    assert secret not in text and other not in text
    assert text.count(tlog.REDACTED) == 5
    assert "Bearer [REDACTED]" in text and "token=[REDACTED]&a=1" in text and "RuntimeError: failed with" in text


@pytest.mark.parametrize("text", ["no token: please log in", "token refresh failed", "the secret is safe",
                                  "uploaded 5 parts"])
def test_redaction_leaves_ordinary_text(text):
    assert tlog.redact(text, tlog.SecretRegistry()) == text


def test_short_strings_are_not_registered():
    registry = tlog.SecretRegistry()
    registry.add("abc")
    registry.add("")
    registry.add(None)
    assert registry.snapshot() == []
    registry.add("abcdefgh")
    assert tlog.redact("xxabcdefghxx", registry) == f"xx{tlog.REDACTED}xx"
