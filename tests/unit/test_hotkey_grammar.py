"""The one hotkey grammar (tray.ui.hotkeys.parse_hotkey) as config validation, `snaplark config set` and registration
see it: README spelling and pynput spelling are the same hotkey, refusals explain themselves, duplicates are compared
in canonical form and refused naming both settings -- at `config set` (real CLI, subprocess) and at load."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from tray import config
from tray.config import ConfigError, load_config
from tray.ui.hotkeys import GlobalHotkeys, HotkeyError, canonical_hotkey, parse_hotkey

ACCEPTED = [
    # (as written, canonical pynput string)
    ("<ctrl>+<alt>+s", "<ctrl>+<alt>+s"),
    ("Ctrl+Alt+S", "<ctrl>+<alt>+s"),
    ("ctrl+alt+s", "<ctrl>+<alt>+s"),
    ("CONTROL + OPTION + s", "<ctrl>+<alt>+s"),
    ("<Alt>+<CTRL>+S", "<ctrl>+<alt>+s"),
    ("<ctrl_l>+<alt_r>+s", "<ctrl>+<alt>+s"),
    ("Super+S", "<cmd>+s"),
    ("<super>+s", "<cmd>+s"),
    ("Win+S", "<cmd>+s"),
    ("<cmd>+s", "<cmd>+s"),
    ("Ctrl+Shift+X", "<ctrl>+<shift>+x"),
    ("Ctrl+Alt+1", "<ctrl>+<alt>+1"),
    ("Ctrl+Alt+/", "<ctrl>+<alt>+/"),
    ("F8", "<f8>"),
    ("<f12>", "<f12>"),
    ("Shift+F8", "<shift>+<f8>"),
    ("Alt+F9", "<alt>+<f9>"),
    ("Ctrl+Alt+Shift+F5", "<ctrl>+<alt>+<shift>+<f5>"),
    ("Print", "<print_screen>"),
    ("<print_screen>", "<print_screen>"),
    ("Ctrl+Alt+Print Screen", "<ctrl>+<alt>+<print_screen>"),
    ("Pause", "<pause>"),
    ("Ctrl+Alt+Space", "<ctrl>+<alt>+<space>"),
    ("Ctrl+Alt+Esc", "<ctrl>+<alt>+<esc>"),
    ("Ctrl+Alt+Escape", "<ctrl>+<alt>+<esc>"),
    ("Ctrl+Alt+Return", "<ctrl>+<alt>+<enter>"),
    ("Ctrl+Alt+Page Up", "<ctrl>+<alt>+<page_up>"),
    ("Ctrl+Shift+Home", "<ctrl>+<shift>+<home>"),
    ("<media_play_pause>", "<media_play_pause>"),
]

REFUSED = [
    # (as written, words the reason must contain)
    ("s", "needs Ctrl, Alt or Super"),
    ("Shift+S", "needs Ctrl, Alt or Super"),
    ("Space", "needs Ctrl, Alt or Super"),
    ("Esc", "needs Ctrl, Alt or Super"),
    ("<ctrl>+<shift>+1", "Shift+1 never fires: on X11"),
    ("Ctrl+Shift+4", "'!' for 1"),
    ("Ctrl+Shift+/", "Shift+/ never fires"),
    ("Ctrl+Alt+!", "'!' is typed with Shift"),
    ("Ctrl++", "'+' is typed with Shift"),
    ("Shift+Print", "Shift+Print Screen never fires on X11"),
    ("Ctrl+Shift+Tab", "ISO_Left_Tab"),
    ("Ctrl+Alt+F9", "switches to a text console"),
    ("<ctrl>+<alt>+<f1>", "XF86Switch_VT_1"),
    ("Ctrl+Alt+Delete", "reserved"),
    ("Ctrl+Alt+F13", "F13 and above"),
    ("<alt_gr>+e", "AltGr"),
    ("Ctrl+Caps_Lock", "Caps Lock would toggle"),
    ("<ctrl>+<65>", "virtual key codes"),
    ("Ctrl+Alt+", "ends with '+'"),
    ("Ctrl+Alt", "only modifiers"),
    ("Ctrl+A+B", "more than one key"),
    ("Ctrl+Control+S", "Ctrl is given twice"),
    ("Hyper+S", "unknown key 'Hyper'"),
    ("ctrl-s", "unknown key 'ctrl-s'"),
    ("<>", "empty key name"),
    ("   ", "empty"),
]


@pytest.mark.parametrize("text,canonical", ACCEPTED)
def test_accepted_spellings_normalise_to_one_canonical_form(text, canonical):
    assert canonical_hotkey(text) == canonical
    assert config.v_hotkey(text) is None  # the settings file accepts exactly what registration accepts
    hk = parse_hotkey("hotkeys.x", text)
    assert parse_hotkey("hotkeys.x", hk.display()) == hk  # what we show the user parses back to the same hotkey
    assert parse_hotkey("hotkeys.x", hk.pynput()) == hk


@pytest.mark.parametrize("text,words", REFUSED)
def test_refused_spellings_say_why(text, words):
    with pytest.raises(HotkeyError) as info:
        parse_hotkey("hotkeys.capture_region", text)
    assert words in info.value.reason
    assert str(info.value).startswith(f"hotkeys.capture_region = {text!r}: ")
    assert config.v_hotkey(text) == info.value.reason  # config gives the same reason


@pytest.mark.parametrize("text", [t for t, _ in ACCEPTED] + [t for t, _ in REFUSED])
def test_config_and_registration_agree(text):
    """Whatever the config accepts is registered, whatever it refuses is reported at registration too."""

    class Adapter:
        mapping = None

        def find_grab_conflicts(self, hotkeys):
            return {}

        def start_listener(self, mapping):
            Adapter.mapping = mapping
            return object()

    gh = GlobalHotkeys({"capture_region": (text, lambda: None)}, lambda f: None, os_name="linux",
                       adapter=Adapter())
    problems = gh.start()
    if config.v_hotkey(text) is None:
        assert problems == [] and list(Adapter.mapping) == [canonical_hotkey(text)]
    else:
        assert [p.setting for p in problems] == ["hotkeys.capture_region"] and Adapter.mapping is None


def load_config_text(text: str, folder):
    path = folder / "config.toml"
    path.write_text("schema_version = 2\n" + text)
    return load_config(path)


def test_empty_string_turns_a_hotkey_off(tmp_path):
    assert config.v_hotkey("") is None
    assert load_config_text('[hotkeys]\npause_recording = ""\n', tmp_path).hotkeys.pause_recording == ""


def test_non_string_is_refused():
    assert "expected a string" in config.v_hotkey(5)


# --------------------------------------------------------------------------------------------- duplicates
def test_config_file_with_duplicates_is_refused_at_load_naming_both(tmp_path):
    p = tmp_path / "config.toml"
    p.write_text('schema_version = 2\n[hotkeys]\ncapture_region = "<ctrl>+<alt>+s"\nrecord_region = "Ctrl+Alt+S"\n')
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert err.value.key == "hotkeys.record_region"
    assert "hotkeys.record_region = 'Ctrl+Alt+S': <ctrl>+<alt>+s is already used by hotkeys.capture_region" in msg
    assert str(p) in msg


def test_config_file_with_pynput_spelled_duplicates_is_refused_at_load(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config_text('[hotkeys]\ncapture_region = "<ctrl>+<alt>+s"\npause_recording = "<alt>+<ctrl>+s"\n',
                         tmp_path)
    assert ("hotkeys.pause_recording = '<alt>+<ctrl>+s': <ctrl>+<alt>+s is already used by hotkeys.capture_region"
            in str(err.value))


def test_duplicate_of_a_default_says_it_is_the_default(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config_text('[hotkeys]\nstop_recording = "ctrl + alt + r"\n', tmp_path)
    assert err.value.key == "hotkeys.stop_recording"
    assert "already used by hotkeys.record_region (its default)" in str(err.value)


def test_duplicates_turned_off_do_not_clash(tmp_path):
    s = load_config_text('[hotkeys]\ncapture_region = ""\nstop_recording = "Ctrl+Alt+S"\n', tmp_path)
    assert s.hotkeys.stop_recording == "Ctrl+Alt+S"


def run_cli(*args: str, env_config) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tray", "--config", str(env_config), *args], capture_output=True,
                          text=True, timeout=60)


def test_config_set_refuses_a_duplicate_naming_both_real_cli(tmp_path):
    cfg = tmp_path / "config.toml"
    out = run_cli("config", "set", "hotkeys.capture_region", "Ctrl+Alt+K", env_config=cfg)
    assert out.returncode == 0, out.stderr
    before = cfg.read_bytes()

    out = run_cli("config", "set", "hotkeys.record_region", "Ctrl+Alt+K", env_config=cfg)
    assert out.returncode == 2, out.stdout + out.stderr
    assert ("hotkeys.record_region = 'Ctrl+Alt+K': <ctrl>+<alt>+k is already used by hotkeys.capture_region"
            in out.stderr), out.stderr
    assert "Traceback" not in out.stderr
    assert cfg.read_bytes() == before  # nothing written

    # the setting being changed is the one refused, even when it comes first in the file
    out = run_cli("config", "set", "hotkeys.capture_region", "<ctrl>+<alt>+r", env_config=cfg)
    assert out.returncode == 2
    assert ("hotkeys.capture_region = '<ctrl>+<alt>+r': <ctrl>+<alt>+r is already used by hotkeys.record_region "
            "(its default)" in out.stderr), out.stderr
    assert cfg.read_bytes() == before


@pytest.mark.parametrize("written", ["Ctrl+Alt+S", "<ctrl>+<alt>+s", "<alt>+<ctrl>+S"])
def test_config_set_duplicate_of_the_default_real_cli(tmp_path, written):
    """The issue's example: `snaplark config set hotkeys.record_region "Ctrl+Alt+S"` with default settings."""
    cfg = tmp_path / "config.toml"
    out = run_cli("config", "set", "hotkeys.record_region", written, env_config=cfg)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert (f"hotkeys.record_region = {written!r}: <ctrl>+<alt>+s is already used by hotkeys.capture_region"
            in out.stderr), out.stderr
    assert not cfg.exists()


def test_config_set_accepts_readme_spelling_and_keeps_it_real_cli(tmp_path):
    cfg = tmp_path / "config.toml"
    out = run_cli("config", "set", "hotkeys.record_region", "Ctrl+Shift+R", env_config=cfg)
    assert out.returncode == 0, out.stderr
    assert tomllib.loads(cfg.read_text())["hotkeys"]["record_region"] == "Ctrl+Shift+R"
    out = run_cli("config", "set", "hotkeys.capture_screen", "<super>+s", env_config=cfg)
    assert out.returncode == 0, out.stderr
    out = run_cli("config", "set", "hotkeys.capture_screen", "s", env_config=cfg)
    assert out.returncode == 2 and "needs Ctrl, Alt or Super" in out.stderr
    out = run_cli("config", "set", "hotkeys.capture_screen", "<ctrl>+<shift>+1", env_config=cfg)
    assert out.returncode == 2 and "Shift+1 never fires" in out.stderr
