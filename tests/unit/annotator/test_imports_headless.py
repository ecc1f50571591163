"""The UI modules import with no display and without pulling in tkinter (CONTRACTS: `import tray` headless)."""

import os
import subprocess
import sys


def test_ui_modules_import_without_display_or_tkinter():
    code = (
        "import sys\n"
        "import tray.ui.dispatcher, tray.ui.selector, tray.ui.annotator, tray.ui.annotator.window\n"
        "from tray.ui.annotator.tools import create_tool, ToolKind\n"
        "assert 'tkinter' not in sys.modules, 'tkinter imported at module level'\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
