"""``snaplark ocr`` end to end (issue 19): Tk draws known paragraphs on the Xvfb display, the real CLI (a
subprocess) reads the region, and what it prints is compared with the text by character error rate.

Bounds: each acceptance paragraph (two fonts, two sizes, dark-on-light and light-on-dark) <= 3 % CER (the issue's
">= 97 % character accuracy"); the dialog look-alike (check boxes, an entry's frame, buttons) <= 10 %.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests import ocr_samples as S

from .conftest import pump, screenshot

pytestmark = pytest.mark.e2e

ACCEPTANCE_CER = 0.03
DIALOG_CER = 0.10


@pytest.fixture(autouse=True)
def _needs_engine():
    from tests.procutil import REQUIRE_ALL

    try:
        import tesserocr  # noqa: F401
    except ImportError as exc:
        msg = f"OCR engine missing: {exc} (pip install -e .)"
        if REQUIRE_ALL:
            pytest.fail(msg)
        pytest.skip(msg)


def run_cli(root, *args: str, timeout: float = 60.0, code: str | None = None) -> subprocess.CompletedProcess:
    """``python -m tray ocr ARGS`` (or ``python -c CODE ARGS``) while Tk keeps serving its windows."""
    argv = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "tray", "ocr", *args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate(timeout=5)
            raise TimeoutError(f"snaplark ocr {args} did not finish in {timeout} s")
        root.update()
        time.sleep(0.01)
    out, err = proc.communicate(timeout=5)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def region_arg(region) -> str:
    return ",".join(str(v) for v in region)


def test_acceptance_paragraphs_are_read_within_3_percent(tk_root):
    shown = []
    y = 30
    for sample in S.ACCEPTANCE:
        win, region = S.show_sample(tk_root, sample, 40, y)
        shown.append((sample, win, region))
        y += region[3] + 30
    pump(tk_root, timeout=0.2)
    screenshot("ocr-acceptance-paragraphs")
    report = []
    for sample, win, region in shown:
        proc = run_cli(tk_root, "--region", region_arg(region), "--time")
        assert proc.returncode == 0, proc.stderr
        err = S.cer(sample.text, proc.stdout)
        report.append(f"{sample.name}: CER {err * 100:.2f} % ({proc.stderr.strip()})")
        assert err <= ACCEPTANCE_CER, f"{sample.name}: CER {err:.3f}\nread: {proc.stdout!r}\nwanted: {sample.text!r}"
    print("\n".join(report))
    for _, win, _ in shown:
        win.destroy()


def test_dialog_text_and_copy_to_the_clipboard(tk_root):
    from tests.procutil import need_tool

    need_tool("xclip")
    win, region, reference = S.show_dialog(tk_root, 300, 200)
    screenshot("ocr-dialog")
    proc = run_cli(tk_root, "--region", region_arg(region), "--copy")
    assert proc.returncode == 0, proc.stderr
    assert S.cer(reference, proc.stdout) <= DIALOG_CER, proc.stdout
    clip = subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True, text=True, timeout=10)
    assert clip.stdout.strip() == proc.stdout.strip()
    win.destroy()


def test_a_region_without_text_says_so(tk_root):
    import tkinter as tk

    win = tk.Toplevel(tk_root)
    win.overrideredirect(True)
    win.geometry("300x200+500+300")
    tk.Frame(win, background="#4a90d9", width=300, height=200).pack()
    assert pump(tk_root, lambda: win.winfo_viewable(), timeout=5)
    pump(tk_root, timeout=0.1)
    proc = run_cli(tk_root, "--region", "520,320,200,100")
    assert proc.returncode == 1
    assert proc.stdout == "" and "no text found" in proc.stderr
    win.destroy()


@pytest.mark.parametrize("region,code,needle", [("0,0,0,10", 1, "zero"), ("a,b", 2, "x,y,w,h"),
                                                 ("5000,5000,10,10", 1, "not inside the screen")])
def test_bad_regions_are_named(tk_root, region, code, needle):
    proc = run_cli(tk_root, "--region", region)
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr.lower()


def test_reading_text_loads_no_upload_or_network_code(tk_root):
    """Never uploads: the command's whole run imports nothing of the upload engine, the API client or requests."""
    win, region = S.show_sample(tk_root, S.ACCEPTANCE[0], 40, 40)
    code = ("import sys; from tray.cli import main; rc = main(['ocr', '--region', sys.argv[1]]); "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('requests', 'urllib3', 'httpx') "
            "or m.startswith(('tray.upload', 'tray.api', 'tray.services', 'snaplark_server'))); "
            "print('LOADED', bad); sys.exit(rc)")
    proc = run_cli(tk_root, region_arg(region), code=code)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout, proc.stdout
    assert S.cer(S.ACCEPTANCE[0].text, proc.stdout.split("LOADED")[0]) <= ACCEPTANCE_CER
    win.destroy()
