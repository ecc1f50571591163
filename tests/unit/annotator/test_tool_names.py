"""The toolbar and the README name the annotator's tools the same way (issue 12 #14), with the same keys."""

import re
from pathlib import Path

from tray.ui.annotator.tools import TOOL_CLASSES
from tray.ui.annotator.window import TOOL_KEYS, TOOL_LABELS, TOOL_ORDER

README = Path(__file__).resolve().parents[3] / "README.md"


def toolbar_names() -> list[str]:
    return [TOOL_LABELS[kind].split(" ", 1)[1] for kind in TOOL_ORDER]


def test_toolbar_uses_each_tool_class_label():
    assert toolbar_names() == [TOOL_CLASSES[kind].label for kind in TOOL_ORDER]


def test_readme_lists_the_toolbar_names_and_keys_in_toolbar_order():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"^- \*\*Annotator\*\*.*?(?=^- \*\*|^#)", text, re.M | re.S)
    assert m, "README has no '- **Annotator**' feature entry"
    listed = re.findall(r"\b([A-Z][a-z]+) `([A-Z])`", m.group(0))
    keys = {kind: key.upper() for key, kind in TOOL_KEYS.items()}
    assert listed == [(TOOL_CLASSES[kind].label, keys[kind]) for kind in TOOL_ORDER], (
        f"README: {listed}\ntoolbar: {list(zip(toolbar_names(), (keys[k] for k in TOOL_ORDER)))}")
