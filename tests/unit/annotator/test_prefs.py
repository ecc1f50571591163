"""The annotator's remembered tool, colour and width (issue 12 #14): a small JSON in the data dir, never config.toml;
anything unreadable falls back to the defaults, field by field."""

import json
import os
import stat

import pytest

from tray import paths
from tray.ui.annotator.prefs import PREFS_FILENAME, AnnotatorPrefs, AnnotatorPrefsStore
from tray.ui.annotator.tools import ToolKind


def test_default_store_lives_in_the_data_dir_not_next_to_the_config():
    store = AnnotatorPrefsStore()
    assert store.path == paths.data_dir() / PREFS_FILENAME
    assert store.path.parent != paths.config_dir()


def test_round_trip_and_private_file(tmp_path):
    store = AnnotatorPrefsStore(tmp_path / "data" / "annotator.json")
    assert store.load() == AnnotatorPrefs()  # no file yet
    store.save(AnnotatorPrefs(ToolKind.TEXT, "#ffffff", 7))
    assert AnnotatorPrefsStore(store.path).load() == AnnotatorPrefs(ToolKind.TEXT, "#ffffff", 7)
    assert json.loads(store.path.read_text()) == {"schema_version": 1, "tool": "text", "color": "#ffffff",
                                                  "width": 7}
    if os.name == "posix":
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert not list(store.path.parent.glob("*.tmp"))


@pytest.mark.parametrize("text, expected", [
    ("not json", AnnotatorPrefs()),
    ("[1, 2]", AnnotatorPrefs()),
    ('{"tool": "laser", "color": "#00ff00", "width": 3}', AnnotatorPrefs(ToolKind.ARROW, "#00ff00", 3)),
    ('{"tool": "pen", "color": "no colour", "width": 99}', AnnotatorPrefs(ToolKind.PEN, "#e53935", 4)),
    ('{"tool": "counter", "color": "RED", "width": true}', AnnotatorPrefs(ToolKind.COUNTER, "#ff0000", 4)),
    ('{"tool": "eraser", "color": "#ffffff"}', AnnotatorPrefs(ToolKind.ARROW, "#ffffff", 4)),
])
def test_bad_files_and_fields_fall_back_to_defaults(tmp_path, caplog, text, expected):
    path = tmp_path / "annotator.json"
    path.write_text(text)
    assert AnnotatorPrefsStore(path).load() == expected


def test_unwritable_place_is_logged_not_raised(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    AnnotatorPrefsStore(blocker / "annotator.json").save(AnnotatorPrefs())  # parent is a file
    assert "cannot remember" in caplog.text
