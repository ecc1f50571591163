"""OCR engines compared on screen text (issue 19): accuracy (character error rate) and time per image.

On a private 1920x1080 Xvfb, Tk draws known text (tests/ocr_samples.py: five paragraphs in four fonts, 11-18 px,
dark-on-light, light-on-dark, white-on-blue; a settings-dialog look-alike; the three acceptance paragraphs; a full
1080p page of text); each region is grabbed with mss and read by every engine that is installed:

* ``tesserocr``     -- libtesseract in-process (the wheel bundles the library), Debian's eng.traineddata (fast LSTM)
* ``tesserocr+pre`` -- the same with what :mod:`tray.ocr` does first: grey, dark backgrounds inverted, 2x upscale
* ``pytesseract``   -- the ``tesseract`` executable from apt, one process per image, with the same preparation
* ``rapidocr``      -- rapidocr-onnxruntime (PP-OCRv4 det + rec ONNX models inside the wheel), lines re-assembled
* ``rapidocr-max``  -- the same with the detector's input limited by its longer side (1280 px) instead of scaled up
                       to a 736 px shorter side (its default, slow on wide screen strips), no angle classifier
* ``snaplark``      -- :func:`tray.ocr.read_text`, the engine the app ships

Usage: ``python benchmarks/ocr_engines.py [--repeat 3] [--only ENGINE,...]``. Prints one line per (engine,
sample): CER and median ms; then a table per engine: mean/max CER, mean ms per sample, ms for the 1080p page, and
the size on disk of what the engine needs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "platform", REPO / "server"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))


def _du(*paths: Path) -> float:
    total = 0
    for p in paths:
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return total / 1e6


def _site(module: str) -> list[Path]:
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return []
    origin = Path(spec.origin)
    base = origin.parent if origin.name == "__init__.py" else origin
    libs = (base.parent if base.is_dir() else origin.parent) / f"{module}.libs"  # auditwheel's vendored libraries
    return [base, *([libs] if libs.is_dir() else [])]


def engines(only: set[str] | None):
    from PIL import Image

    from tray import ocr

    out = {}

    def want(name):
        return only is None or name in only

    if want("tesserocr"):
        try:
            import tesserocr

            api = tesserocr.PyTessBaseAPI(path=ocr.tessdata_dir(), lang="eng")

            def run_tesserocr(img: Image.Image) -> str:
                api.SetImage(img)
                return api.GetUTF8Text()

            out["tesserocr"] = (run_tesserocr, _du(*_site("tesserocr"), Path(ocr.tessdata_dir()) / "eng.traineddata"))
        except Exception as exc:  # noqa: BLE001
            print(f"tesserocr unavailable: {exc}")
    if want("tesserocr+pre"):
        try:
            import tesserocr

            api2 = tesserocr.PyTessBaseAPI(path=ocr.tessdata_dir(), lang="eng")

            def run_pre(img: Image.Image) -> str:
                api2.SetImage(ocr.prepare(img))
                return api2.GetUTF8Text()

            out["tesserocr+pre"] = (run_pre, _du(*_site("tesserocr"), Path(ocr.tessdata_dir()) / "eng.traineddata"))
        except Exception as exc:  # noqa: BLE001
            print(f"tesserocr unavailable: {exc}")
    if want("pytesseract"):
        try:
            import shutil

            import pytesseract

            exe = shutil.which("tesseract")
            if exe is None:
                raise RuntimeError("no tesseract executable")
            size = _du(Path(exe), Path(ocr.tessdata_dir()) / "eng.traineddata", *_site("pytesseract"),
                       *sorted(Path("/usr/lib/x86_64-linux-gnu").glob("libtesseract.so*"))[:1],
                       *sorted(Path("/usr/lib/x86_64-linux-gnu").glob("liblept.so*"))[:1])
            out["pytesseract"] = (lambda img: pytesseract.image_to_string(ocr.prepare(img)), size)
        except Exception as exc:  # noqa: BLE001
            print(f"pytesseract unavailable: {exc}")
    if want("rapidocr") or want("rapidocr-max"):
        try:
            import numpy as np
            from rapidocr_onnxruntime import RapidOCR

            engine = RapidOCR()

            def run_rapid(img: Image.Image) -> str:
                result, _ = engine(np.asarray(img.convert("RGB"))[:, :, ::-1])
                return _rapid_lines(result or [])

            tuned = RapidOCR(det_limit_type="max", det_limit_side_len=1280)

            def run_tuned(img: Image.Image) -> str:
                result, _ = tuned(np.asarray(img.convert("RGB"))[:, :, ::-1], use_cls=False)
                return _rapid_lines(result or [])

            # with its own dependencies beyond numpy/Pillow: onnxruntime, OpenCV, shapely, pyclipper
            size = _du(*_site("rapidocr_onnxruntime"), *_site("onnxruntime"), *_site("cv2"), *_site("shapely"),
                       *_site("pyclipper"))
            if want("rapidocr"):
                out["rapidocr"] = (run_rapid, size)
            if want("rapidocr-max"):
                out["rapidocr-max"] = (run_tuned, size)
        except Exception as exc:  # noqa: BLE001
            print(f"rapidocr unavailable: {exc}")
    if want("snaplark"):
        try:
            reader = ocr.TextReader()
            out["snaplark"] = (reader.read, out.get("tesserocr+pre", (None, 0.0))[1])
        except Exception as exc:  # noqa: BLE001
            print(f"tray.ocr unavailable: {exc}")
    return out


def _rapid_lines(result) -> str:
    """RapidOCR gives one box per text run: group runs whose vertical centres are within half a line into lines,
    left to right, lines top to bottom."""
    items = sorted(((min(p[1] for p in box), max(p[1] for p in box), min(p[0] for p in box), text)
                    for box, text, _score in result))
    lines: list[list] = []
    for top, bottom, left, text in items:
        centre = (top + bottom) / 2
        if lines and abs(lines[-1][0] - centre) < (bottom - top) / 2:
            lines[-1][1].append((left, text))
        else:
            lines.append([centre, [(left, text)]])
    return "\n".join(" ".join(t for _, t in sorted(runs)) for _, runs in lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", help="comma-separated engine names")
    ap.add_argument("--show", action="store_true", help="print what each engine read")
    ap.add_argument("--save", type=Path, metavar="DIR", help="also save the grabbed images there (PNG)")
    args = ap.parse_args(argv)

    from benchmarks._desktop_env import xvfb
    from tests import ocr_samples as S

    with xvfb(1920, 1080) as display:
        os.environ["DISPLAY"] = display
        import tkinter as tk

        import mss
        from PIL import Image

        root = tk.Tk()
        root.withdraw()

        def grab(region):
            x, y, w, h = region
            with mss.MSS() as sct:
                shot = sct.grab({"left": x, "top": y, "width": w, "height": h})
            return Image.frombytes("RGB", shot.size, shot.rgb)

        images: list[tuple[str, Image.Image, str]] = []
        for sample in S.SAMPLES + S.ACCEPTANCE:
            win, region = S.show_sample(root, sample, 40, 40)
            images.append((sample.name, grab(region), sample.text))
            win.destroy()
        win, region, text = S.show_dialog(root, 40, 40)
        images.append(("ui-dialog", grab(region), text))
        win.destroy()
        win, text = S.show_page(root, 1920, 1080)
        images.append(("page-1080p", grab((0, 0, 1920, 1080)), text))
        win.destroy()
        root.destroy()

    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for sample_name, img, ref in images:
            img.save(args.save / f"{sample_name}.png")
            (args.save / f"{sample_name}.txt").write_text(ref)
    only = set(args.only.split(",")) if args.only else None
    summary = []
    for name, (run, size_mb) in engines(only).items():
        run(images[0][1])  # warm-up: model load, first-call allocations
        cers, times, page_ms = [], [], 0.0
        for sample_name, img, ref in images:
            took = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                text = run(img)
                took.append((time.perf_counter() - t0) * 1000)
            ms = statistics.median(took)
            err = S.cer(ref, text)
            print(f"{name:14s} {sample_name:30s} {img.width:4d}x{img.height:<4d} CER {err * 100:6.2f} %  {ms:8.1f} ms")
            if args.show:
                print("    read:", S.normalise(text)[:400])
            if sample_name == "page-1080p":
                page_ms = ms
            else:
                cers.append(err)
                times.append(ms)
        summary.append((name, statistics.mean(cers), max(cers), statistics.mean(times), page_ms, size_mb))
    print()
    print(f"{'engine':14s} {'mean CER':>9s} {'max CER':>8s} {'ms/sample':>10s} {'ms 1080p':>9s} {'MB on disk':>11s}")
    for name, mean_cer, max_cer, ms, page_ms, size_mb in summary:
        print(f"{name:14s} {mean_cer * 100:8.2f}% {max_cer * 100:7.2f}% {ms:10.1f} {page_ms:9.1f} {size_mb:11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
