"""build/build_binary.sh guards: it never writes into build/ and says what is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "build" / "build_binary.sh"


def test_refuses_to_write_into_build_dir(tmp_path):
    proc = subprocess.run(["bash", str(SCRIPT), "--dist", str(REPO / "build" / "out")], capture_output=True,
                          text=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 2
    assert "refusing to write into build/" in proc.stderr
    assert not (REPO / "build" / "out").exists()


def test_missing_pyinstaller_is_named(tmp_path):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\nexit 1\n")  # any `import` fails
    fake_python.chmod(0o755)
    proc = subprocess.run(["bash", str(SCRIPT), "--dist", str(tmp_path / "dist")], capture_output=True, text=True,
                          timeout=30, env={"PATH": "/usr/bin:/bin", "PYTHON": str(fake_python)})
    assert proc.returncode == 3
    assert "PyInstaller is not installed" in proc.stderr
    assert not (tmp_path / "dist").exists()


def test_spec_reads_the_version_from_tray_init_only():
    spec = (REPO / "build" / "tray.spec").read_text()
    assert '"tray" / "__init__.py"' in spec
    assert "__version__" in spec and "0.1" not in spec, "no version literal in the spec"
