"""Settings: defaults, round-trip, migration from schema v1, validation of every setting type."""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from pathlib import Path

import pytest

from tray import config, paths
from tray.config import ConfigError, Settings, load_config, save_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------------- paths
def test_paths_follow_env_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("SNAPLARK_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SNAPLARK_CONFIG", str(tmp_path / "c" / "settings.toml"))
    monkeypatch.setenv("SNAPLARK_LOG_DIR", str(tmp_path / "l"))
    assert paths.data_dir() == tmp_path / "d"
    assert paths.config_file() == tmp_path / "c" / "settings.toml"
    assert paths.config_dir() == tmp_path / "c"
    assert paths.log_dir() == tmp_path / "l"
    assert paths.captures_dir() == tmp_path / "d" / "captures"
    assert not (tmp_path / "d").exists()  # computing a path creates nothing


def test_paths_default_to_platformdirs_named_snaplark(monkeypatch):
    for name in ("SNAPLARK_DATA_DIR", "SNAPLARK_CONFIG", "SNAPLARK_LOG_DIR"):
        monkeypatch.delenv(name, raising=False)
    import platformdirs

    assert paths.config_file() == Path(platformdirs.user_config_dir("snaplark", appauthor=False)) / "config.toml"
    assert paths.data_dir() == Path(platformdirs.user_data_dir("snaplark", appauthor=False))
    assert paths.log_dir() == Path(platformdirs.user_log_dir("snaplark", appauthor=False))
    assert "snaplark" in str(paths.data_dir()).lower()


# -------------------------------------------------------------------------------------------------- defaults
def test_missing_file_gives_contract_defaults(tmp_path):
    s = load_config(tmp_path / "absent.toml")
    assert s == Settings()
    assert s.schema_version == config.SCHEMA_VERSION == 2
    assert (s.server.url, s.server.embedded_port) == ("", 8765)
    assert s.hotkeys.capture_region == "<ctrl>+<alt>+s"
    assert s.hotkeys.capture_screen == "<ctrl>+<alt>+a"
    assert s.hotkeys.record_region == "<ctrl>+<alt>+r"
    assert s.hotkeys.stop_recording == "<ctrl>+<alt>+q"
    assert s.hotkeys.pause_recording == "<ctrl>+<alt>+p"
    assert (s.capture.fps, s.capture.format, s.capture.bitrate) == (30, "webm", 2_500_000)
    assert (s.capture.cursor, s.capture.countdown, s.capture.max_duration) == (True, 3, 0)
    assert (s.upload.auto_upload, s.upload.keep_local_copy, s.upload.save_dir) == (True, True, "")
    assert (s.notifications.enabled, s.notifications.progress) == (True, True)
    assert not (tmp_path / "absent.toml").exists()


def test_default_path_is_snaplark_config_env(tmp_path, monkeypatch):
    target = write(tmp_path / "x" / "my.toml", "[capture]\nfps = 12\n")
    monkeypatch.setenv("SNAPLARK_CONFIG", str(target))
    assert load_config().capture.fps == 12


def test_partial_file_keeps_defaults_for_the_rest(tmp_path):
    p = write(tmp_path / "c.toml", "schema_version = 2\n[capture]\nfps = 60\n[upload]\nauto_upload = false\n")
    s = load_config(p)
    assert s.capture.fps == 60 and s.upload.auto_upload is False
    assert s.capture.bitrate == 2_500_000 and s.server == config.ServerSettings()


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().capture.fps = 5  # type: ignore[misc]


def test_resolved_save_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SNAPLARK_DATA_DIR", str(tmp_path / "data"))
    assert config.UploadSettings().resolved_save_dir() == tmp_path / "data" / "captures"
    assert config.UploadSettings(save_dir="~/shots").resolved_save_dir() == Path.home() / "shots"


# ------------------------------------------------------------------------------------------------ round trip
def test_round_trip_every_field_changed(tmp_path):
    s = Settings(
        server=config.ServerSettings(url="https://snaplark.example/api/v1", embedded_port=9999),
        hotkeys=config.HotkeySettings(capture_region="<shift>+<f1>", capture_screen="<cmd>+a",
                                      record_region="<ctrl>+<shift>+r", stop_recording="<ctrl>+<esc>",
                                      pause_recording=""),
        capture=config.CaptureSettings(fps=15, format="webm", bitrate=800_000, cursor=False, countdown=0,
                                       max_duration=600),
        upload=config.UploadSettings(auto_upload=False, keep_local_copy=False, save_dir="/srv/shots"),
        notifications=config.NotificationSettings(enabled=False, progress=False),
    )
    p = save_config(s, tmp_path / "sub" / "config.toml")
    assert p == tmp_path / "sub" / "config.toml"
    assert load_config(p) == s
    raw = tomllib.loads(p.read_text())
    assert raw["schema_version"] == 2 and raw["capture"]["fps"] == 15


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    p = tmp_path / "config.toml"
    save_config(Settings(), p)
    os.chmod(p, 0o600)
    save_config(dataclasses.replace(Settings(), capture=config.CaptureSettings(fps=10)), p)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["config.toml"]
    assert (p.stat().st_mode & 0o777) == 0o600  # the replacement keeps the file's mode
    assert load_config(p).capture.fps == 10


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    p = tmp_path / "config.toml"
    save_config(Settings(), p)
    before = p.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)  # OS edge: the disk refuses
    with pytest.raises(OSError):
        save_config(dataclasses.replace(Settings(), capture=config.CaptureSettings(fps=10)), p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["config.toml"]


# ------------------------------------------------------------------------------------------------- migration
V1_FILE = """\
server_url = "https://old.example/api/v1"
embedded_port = 9001
fps = 24
bitrate = 1000000
show_cursor = false
countdown = 5
auto_upload = false
keep_local_copy = false
save_dir = "/home/u/Videos"
notifications = false
hotkey_region = "<ctrl>+<shift>+s"
hotkey_screen = "<ctrl>+<shift>+a"
hotkey_record = "<ctrl>+<shift>+r"
hotkey_stop = "<ctrl>+<shift>+q"
"""


def test_migrates_v1_flat_file_to_v2_sections_with_backup(tmp_path, caplog):
    p = write(tmp_path / "config.toml", V1_FILE)
    with caplog.at_level(logging.INFO, logger="tray.config"):
        s = load_config(p)
    assert s.server == config.ServerSettings(url="https://old.example/api/v1", embedded_port=9001)
    assert (s.capture.fps, s.capture.bitrate, s.capture.cursor, s.capture.countdown) == (24, 1_000_000, False, 5)
    assert (s.upload.auto_upload, s.upload.keep_local_copy, s.upload.save_dir) == (False, False, "/home/u/Videos")
    assert s.notifications.enabled is False and s.notifications.progress is True
    assert s.hotkeys.capture_region == "<ctrl>+<shift>+s" and s.hotkeys.stop_recording == "<ctrl>+<shift>+q"
    assert s.hotkeys.pause_recording == "<ctrl>+<alt>+p"  # not in v1: default
    backup = tmp_path / "config.toml.v1.bak"
    assert backup.read_text() == V1_FILE
    raw = tomllib.loads(p.read_text())
    assert raw["schema_version"] == 2
    assert raw["capture"]["fps"] == 24 and "fps" not in raw
    assert load_config(p) == s  # the rewritten file loads the same and is not migrated again
    assert "migrated" in caplog.text


def test_v1_with_explicit_version_and_unknown_key(tmp_path, caplog):
    p = write(tmp_path / "config.toml", "schema_version = 1\nfps = 10\ncolour = 'red'\n")
    with caplog.at_level(logging.WARNING):
        assert load_config(p).capture.fps == 10
    assert "'colour'" in caplog.text and str(p) in caplog.text


def test_invalid_v1_file_is_not_rewritten(tmp_path):
    p = write(tmp_path / "config.toml", "fps = 0\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert err.value.key == "capture.fps"
    assert p.read_text() == "fps = 0\n"
    assert not (tmp_path / "config.toml.v1.bak").exists()


def test_newer_schema_is_refused(tmp_path):
    p = write(tmp_path / "config.toml", "schema_version = 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert err.value.key == "schema_version" and "newer" in str(err.value) and str(p) in str(err.value)


# ------------------------------------------------------------------------------------------------ validation
BAD_VALUES = [
    # (section, key, toml value, words expected in the reason)
    ("server", "url", '"ftp://example.com"', "http"),
    ("server", "url", '"snaplark.com"', "http"),
    ("server", "url", "42", "string"),
    ("server", "embedded_port", "0", "between 1 and 65535"),
    ("server", "embedded_port", "70000", "between 1 and 65535"),
    ("server", "embedded_port", '"8765"', "integer"),
    ("hotkeys", "capture_region", '"ctrl-alt-s"', "unknown key"),
    ("hotkeys", "capture_screen", '"<ctrl>+<hyper>+a"', "unknown key"),
    ("hotkeys", "record_region", '"<ctrl>+<alt>"', "only modifiers"),
    ("hotkeys", "stop_recording", '"<ctrl>+"', "ends with"),
    ("hotkeys", "pause_recording", '"<ctrl>+p+p"', "more than one key"),
    ("hotkeys", "capture_region", "true", "string"),
    ("capture", "fps", "0", "between 1 and 120"),
    ("capture", "fps", "121", "between 1 and 120"),
    ("capture", "fps", "29.97", "integer"),
    ("capture", "fps", "true", "integer"),
    ("capture", "format", '"avi"', "'webm'"),
    ("capture", "bitrate", "0", "at least 1"),
    ("capture", "bitrate", "-5", "at least 1"),
    ("capture", "cursor", '"yes"', "true or false"),
    ("capture", "cursor", "1", "true or false"),
    ("capture", "countdown", "11", "between 0 and 10"),
    ("capture", "countdown", "-1", "between 0 and 10"),
    ("capture", "max_duration", "-1", "at least 0"),
    ("upload", "auto_upload", '"false"', "true or false"),
    ("upload", "keep_local_copy", "0", "true or false"),
    ("upload", "save_dir", "[1, 2]", "string"),
    ("notifications", "enabled", '"on"', "true or false"),
    ("notifications", "progress", "3", "true or false"),
]


@pytest.mark.parametrize("section,key,value,reason", BAD_VALUES,
                         ids=[f"{s}.{k}={v}" for s, k, v, _ in BAD_VALUES])
def test_bad_value_names_key_value_and_file(tmp_path, section, key, value, reason):
    p = write(tmp_path / "conf" / "config.toml", f"schema_version = 2\n[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    message = str(err.value)
    assert f"{section}.{key}" in message
    assert str(p) in message
    assert reason in message
    parsed = tomllib.loads(f"v = {value}")["v"]
    assert err.value.key == f"{section}.{key}" and err.value.value == parsed and err.value.path == p
    assert config.show_value(parsed) in message  # the value itself is shown


def test_all_bad_values_reported_together(tmp_path):
    p = write(tmp_path / "config.toml", "[capture]\nfps = 0\ncountdown = 99\n[server]\nembedded_port = -1\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    keys = [k for k, _, _ in err.value.problems]
    assert keys == ["capture.fps", "capture.countdown", "server.embedded_port"]
    assert all(k in str(err.value) for k in keys)


def test_section_that_is_not_a_table(tmp_path):
    p = write(tmp_path / "config.toml", 'capture = "fast"\n')
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert err.value.key == "capture" and "[capture] table" in str(err.value)


def test_broken_toml_names_file(tmp_path):
    p = write(tmp_path / "config.toml", "[capture\nfps = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(p) in str(err.value) and "TOML" in str(err.value)


def test_unknown_keys_warn_with_key_and_file(tmp_path, caplog):
    p = write(tmp_path / "config.toml", "theme = 'dark'\n[capture]\nfps = 20\nsparkles = true\n[extras]\na = 1\n")
    with caplog.at_level(logging.WARNING, logger="tray.config"):
        s = load_config(p)
    assert s.capture.fps == 20
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    for key in ("'theme'", "'capture.sparkles'", "'extras'"):
        assert any(key in w and str(p) in w for w in warnings), (key, warnings)


@pytest.mark.parametrize("hotkey", ["<ctrl>+<alt>+s", "<shift>+<f12>", "Ctrl+Alt+S", "<super>+s", "<ctrl>+/",
                                    "<ctrl_l>+<alt_r>+X", "<cmd>+<space>", "<print_screen>", " <ctrl>+s", ""])
def test_valid_hotkeys(hotkey):
    assert config.hotkey_problem(hotkey) is None


@pytest.mark.parametrize("hotkey", ["<ctrl>+<alt>+ss", "<>", "<ctrl>+<ALT>+<Ctrl>+s", "ctrl-s", "a", "<ctrl>++",
                                    "<ctrl>+<65>", "<ctrl>+ +s", "<ctrl>+<alt>+s+", "<ctrl>+<shift>+1"])
def test_invalid_hotkeys(hotkey):
    assert config.hotkey_problem(hotkey)


@pytest.mark.parametrize("url", ["", "http://127.0.0.1:8765/api/v1", "https://snaplark.com/api/v1"])
def test_valid_urls(url):
    assert config.v_url(url) is None


@pytest.mark.parametrize("url", ["snaplark.com", "file:///etc/passwd", "https://", "http://host:99999/",
                                 "http://ho st/"])
def test_invalid_urls(url):
    assert config.v_url(url)


# -------------------------------------------------------------------------------------------- get / set keys
def test_get_value_and_keys():
    s = Settings()
    assert config.get_value(s, "capture.fps") == 30
    assert config.get_value(s, "schema_version") == 2
    assert len(config.setting_keys()) == 28  # + capture.audio, capture.mic_device, hotkeys.copy_text, upload.copy,
    # hotkeys.capture_window, capture.window_frame, upload.expires, capture.webcam, webcam_device, webcam_corner
    with pytest.raises(KeyError):
        config.get_value(s, "capture.nope")
    with pytest.raises(KeyError):
        config.get_value(s, "fps")


def test_set_value_parses_validates_and_preserves_unknown_keys(tmp_path, caplog):
    p = write(tmp_path / "config.toml", "[capture]\nfps = 20\nsparkles = 1\n")
    s = config.set_value(p, "capture.cursor", "off")
    assert s.capture.cursor is False and s.capture.fps == 20
    s = config.set_value(p, "capture.bitrate", "3_000_000")
    assert s.capture.bitrate == 3_000_000
    s = config.set_value(p, "server.url", "http://10.0.0.2:8765/api/v1")
    assert load_config(p) == s
    assert tomllib.loads(p.read_text())["capture"]["sparkles"] == 1


def test_set_value_refuses_bad_value_and_writes_nothing(tmp_path):
    p = write(tmp_path / "config.toml", "[capture]\nfps = 20\n")
    for key, text in [("capture.fps", "500"), ("capture.fps", "fast"), ("capture.cursor", "maybe"),
                      ("hotkeys.capture_region", "ctrl-s"), ("nope.key", "1")]:
        with pytest.raises(ConfigError) as err:
            config.set_value(p, key, text)
        assert err.value.key == key and str(p) in str(err.value)
    assert p.read_text() == "[capture]\nfps = 20\n"


def test_set_value_fixes_the_bad_key_itself(tmp_path):
    p = write(tmp_path / "config.toml", "[capture]\nfps = 500\n")
    with pytest.raises(ConfigError):
        load_config(p)
    assert config.set_value(p, "capture.fps", "60").capture.fps == 60
    assert load_config(p).capture.fps == 60


def test_audio_settings_are_checked(tmp_path):
    s = Settings()
    assert s.capture.audio == "auto" and s.capture.mic_device == ""
    p = tmp_path / "config.toml"
    config.set_value(p, "capture.audio", "both")
    assert config.load_config(p).capture.audio == "both"
    with pytest.raises(config.ConfigError, match="capture.audio"):
        config.set_value(p, "capture.audio", "loud")


# ------------------------------------------------------------------------------------------- upload.expires
def test_upload_expires_durations():
    from tray.config.validation import parse_duration

    assert Settings().upload.expires == ""  # default: as long as the server keeps uploads
    assert [parse_duration(t) for t in ("7d", " 12H ", "30m", "90s", "2w", "3600", "", "never")] == [
        604_800, 43_200, 1_800, 90, 1_209_600, 3_600, None, None]
    for bad in ("0", "-1", "1.5d", "7x", "d", "soon", "999999999w"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ConfigError, match=r"upload.expires = 'soon': expected a duration like 7d"):
        config.settings_from_dict({"schema_version": 2, "upload": {"expires": "soon"}})
    with pytest.raises(ConfigError, match="upload.expires"):
        config.settings_from_dict({"schema_version": 2, "upload": {"expires": 7}})
