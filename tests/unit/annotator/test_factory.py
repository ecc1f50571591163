import pytest

from tray.ui.annotator.tools import TOOL_CLASSES, Style, ToolContext, ToolKind, create_tool, tool_from_dict


def test_enum_is_append_only():
    # Persisted values: existing members must never be renumbered (new tools get new, larger values).
    assert {k.name: k.value for k in ToolKind} == {
        "ARROW": 1, "LINE": 2, "RECTANGLE": 3, "ELLIPSE": 4, "PEN": 5, "HIGHLIGHTER": 6, "TEXT": 7,
        "PIXELATE": 8, "COUNTER": 9, "ERASER": 10, "SELECT": 11,
    }


@pytest.mark.parametrize("kind", list(ToolKind))
def test_factory_builds_one_class_per_kind(kind):
    tool = create_tool(kind, Style("#00ff00", 3), ToolContext())
    assert type(tool) is TOOL_CLASSES[kind]
    assert tool.kind is kind
    assert tool.style.color == "#00ff00" and tool.style.width == 3
    for method in ("press", "move", "release", "draw", "render", "to_dict", "hit_test", "apply"):
        assert callable(getattr(tool, method))


def test_every_kind_is_registered_once():
    assert set(TOOL_CLASSES) == set(ToolKind)
    assert len(set(TOOL_CLASSES.values())) == len(ToolKind)


@pytest.mark.parametrize("kind", [k for k in ToolKind if k is not ToolKind.ERASER])
def test_serialisation_round_trip(kind):
    tool = create_tool(kind, Style("blue", 5), ToolContext(next_counter=4))
    tool.press(10, 12)
    tool.move(30, 40)
    tool.move(50, 44)
    tool.release(60, 70)
    if kind is ToolKind.TEXT:
        tool.set_text("hello")
    data = tool.to_dict()
    assert data["kind"] == kind.key and data["color"] == "#0000ff"
    clone = tool_from_dict(data)
    assert type(clone) is type(tool)
    assert clone.to_dict() == data


def test_unknown_kind_rejected():
    with pytest.raises(ValueError):
        tool_from_dict({"kind": "laser"})


def test_style_normalises_colour_and_width():
    s = Style("red", 0)
    assert s.color == "#ff0000" and s.width == 1 and s.rgb == (255, 0, 0)
