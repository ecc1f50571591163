"""The "Show in folder" adapters of macOS and Windows (written, not run there): the exact command each starts, given
through their injected runner; what a failure to start means (False: the caller opens the folder)."""

from __future__ import annotations

from pathlib import Path

from tray_platform.macos.reveal import FinderReveal
from tray_platform.windows.reveal import ExplorerReveal, select_command


def test_finder_is_asked_to_reveal_the_file():
    seen = []
    reveal = FinderReveal(runner=lambda argv: seen.append(argv) or 0)
    assert reveal.reveal(Path("/Users/me/Pictures/a b.png")) is True
    assert seen == [["open", "-R", "/Users/me/Pictures/a b.png"]]
    assert FinderReveal(runner=lambda argv: 1).reveal(Path("/x/y.png")) is False


def test_explorer_gets_the_path_quoted_after_select():
    seen = []
    assert ExplorerReveal(starter=seen.append).reveal(Path("/d/my shots/a.png")) is True
    assert seen == ['explorer /select,"/d/my shots/a.png"'] == [select_command(Path("/d/my shots/a.png"))]

    def cannot(line):
        raise OSError("no explorer")

    assert ExplorerReveal(starter=cannot).reveal(Path("/d/a.png")) is False
