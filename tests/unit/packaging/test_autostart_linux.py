"""XDG autostart adapter: the generated .desktop file, Exec quoting (checked against GLib's own parser, which is
what GNOME's session uses to launch autostart entries), XDG_CONFIG_HOME handling, disable/override rules."""

from __future__ import annotations

import configparser
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tray_platform.base import Autostart
from tray_platform.linux.autostart import (
    ENTRY_NAME,
    ExecSyntaxError,
    XdgAutostart,
    desktop_entry,
    exec_quote,
    exec_split,
)


def read_entry(path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text(encoding="utf-8"))
    return dict(parser["Desktop Entry"])


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


def make(home, **env):
    base = {"HOME": str(home), "XDG_CONFIG_DIRS": str(home.parent / "no-system-dirs")}
    base.update(env)
    return XdgAutostart(env=base)


def test_satisfies_protocol(home):
    assert isinstance(make(home), Autostart)


def test_enable_writes_entry_under_xdg_config_home(home, tmp_path):
    cfg = tmp_path / "xdg-config"
    autostart = make(home, XDG_CONFIG_HOME=str(cfg))
    assert not autostart.is_enabled()
    binary = tmp_path / "bin" / "snaplark"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    autostart.enable([str(binary)])
    path = cfg / "autostart" / ENTRY_NAME
    assert autostart.path == path and path.is_file()
    assert not (home / ".config").exists()
    entry = read_entry(path)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == str(binary)
    assert entry["TryExec"] == str(binary)
    assert entry["Name"] == "Snaplark"
    assert entry.get("Hidden", "false") == "false"
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert autostart.is_enabled()
    assert autostart.command() == [str(binary)]
    assert not list(path.parent.glob(".*tmp")), "no temporary file is left behind"


@pytest.mark.parametrize("value", [None, "", "relative/dir"])
def test_falls_back_to_home_config_when_xdg_config_home_unset_or_relative(home, value):
    env = {} if value is None else {"XDG_CONFIG_HOME": value}
    autostart = make(home, **env)
    autostart.enable(["/usr/bin/snaplark"])
    assert (home / ".config" / "autostart" / ENTRY_NAME).is_file()


def test_relative_command_has_no_tryexec(home):
    autostart = make(home)
    autostart.enable(["snaplark", "--verbose"])
    entry = read_entry(autostart.path)
    assert "TryExec" not in entry
    assert entry["Exec"] == "snaplark --verbose"


def test_disable_removes_the_entry_and_is_idempotent(home):
    autostart = make(home)
    autostart.enable(["/usr/bin/snaplark"])
    autostart.disable()
    assert not autostart.path.exists()
    assert not autostart.is_enabled()
    assert autostart.command() is None
    autostart.disable()  # nothing to remove: no error


def test_disable_hides_a_system_wide_entry(home, tmp_path):
    system = tmp_path / "etc-xdg"
    (system / "autostart").mkdir(parents=True)
    (system / "autostart" / ENTRY_NAME).write_text("[Desktop Entry]\nType=Application\nName=Snaplark\n"
                                                   "Exec=/usr/bin/snaplark\n")
    autostart = make(home, XDG_CONFIG_DIRS=f"{tmp_path / 'missing'}:{system}")
    assert autostart.is_enabled(), "the system-wide entry starts Snaplark"
    assert autostart.command() == ["/usr/bin/snaplark"]
    autostart.disable()
    assert autostart.path.is_file(), "a user entry must override the system one"
    assert read_entry(autostart.path)["Hidden"] == "true"
    assert not autostart.is_enabled()
    autostart.enable(["/opt/snaplark/snaplark"])
    assert autostart.is_enabled()
    assert autostart.command() == ["/opt/snaplark/snaplark"]


@pytest.mark.parametrize("extra", ["Hidden=true", "X-GNOME-Autostart-enabled=false"])
def test_entry_switched_off_by_the_desktop_counts_as_disabled(home, extra):
    autostart = make(home)
    autostart.enable(["/usr/bin/snaplark"])
    autostart.path.write_text(autostart.path.read_text().replace("X-GNOME-Autostart-enabled=true\n", "")
                              + extra + "\n")
    assert not autostart.is_enabled()


def test_garbage_file_is_not_enabled(home):
    autostart = make(home)
    autostart.path.parent.mkdir(parents=True)
    autostart.path.write_bytes(b"\xff\xfe not a desktop file")
    assert not autostart.is_enabled()


@pytest.mark.parametrize("argv, expected", [
    (["/usr/bin/snaplark"], "/usr/bin/snaplark"),
    (["/opt/My Apps/snaplark", "--config", "/tmp/a b.toml"], '"/opt/My Apps/snaplark" --config "/tmp/a b.toml"'),
    (["/x/snaplark", "100%"], "/x/snaplark 100%%"),
    (["/x/snaplark", 'say "hi"'], r'/x/snaplark "say \\"hi\\""'),
    (["/x/snaplark", "$HOME"], r'/x/snaplark "\\$HOME"'),
    (["/x/snaplark", "a\\b"], r'/x/snaplark "a\\\\b"'),
    (["/x/snaplark", ""], '/x/snaplark ""'),
])
def test_exec_quote_follows_the_desktop_entry_spec(argv, expected):
    assert exec_quote(argv) == expected
    assert exec_split(expected) == argv


@pytest.mark.parametrize("bad", [[], [""], ["/x", "line\nbreak"]])
def test_exec_quote_rejects_unrepresentable_commands(bad):
    with pytest.raises(ValueError):
        exec_quote(bad)


def test_exec_split_drops_field_codes_and_rejects_bad_quotes():
    assert exec_split("snaplark %U --x") == ["snaplark", "--x"]
    with pytest.raises(ExecSyntaxError):
        exec_split('"unterminated')


arg_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\0"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(arg_text, min_size=1, max_size=4).filter(lambda a: a[0] != ""))
def test_exec_round_trip(argv):
    assert exec_split(exec_quote(argv)) == argv


@settings(max_examples=80, deadline=None)
@given(st.lists(arg_text, min_size=1, max_size=4).filter(lambda a: a[0] != ""))
def test_glib_reads_the_command_we_wrote(tmp_path_factory, argv):
    """GLib (GDesktopAppInfo: GNOME's session, ``gio launch``) parses the file to the same argv."""
    gi = pytest.importorskip("gi")
    gi.require_version("Gio", "2.0")
    gi.require_version("GLib", "2.0")
    from gi.repository import Gio, GLib

    directory = tmp_path_factory.mktemp("glib")
    path = directory / ENTRY_NAME
    path.write_text(desktop_entry(["/bin/sh", *argv]), encoding="utf-8")
    info = Gio.DesktopAppInfo.new_from_filename(str(path))
    assert info is not None, "GLib rejected the entry"
    # get_commandline() is the unescaped Exec value before field-code expansion; at launch GLib turns "%%" into "%"
    # (expand_macro), then splits with g_shell_parse_argv. Our entries carry no other field code.
    ok, parsed = GLib.shell_parse_argv(info.get_commandline().replace("%%", "%"))
    assert ok and parsed == ["/bin/sh", *argv]
