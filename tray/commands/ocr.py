"""``snaplark ocr [--region X,Y,W,H] [--copy]``: print the text in a region of the screen, read on this machine
(:mod:`tray.ocr`; nothing is uploaded). Without ``--region`` the region selector opens.

Exit status: 0 text printed; 1 no text found, capture failed or the OCR engine is missing; 2 usage; 130 cancelled.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", metavar="X,Y,W,H", help="read this rectangle (virtual-screen pixels); "
                        "default: select it on screen")
    parser.add_argument("--copy", action="store_true", help="also copy the text to the clipboard")
    parser.add_argument("--time", action="store_true", help="print the time the OCR took on stderr")


def _err(msg: str) -> None:
    print(f"snaplark ocr: {msg}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from tray.capture.errors import InvalidCaptureTarget, NoDisplayError
    from tray.ocr import OcrUnavailable, TextReader

    try:
        image = _image(args)
    except InvalidCaptureTarget as exc:
        _err(str(exc))
        return EXIT_USAGE if args.region and "X,Y,W,H" in str(exc) else EXIT_FAILED
    except NoDisplayError as exc:
        _err(str(exc))
        return EXIT_FAILED
    if image is None:
        _err("cancelled")
        return EXIT_CANCELLED
    started = time.perf_counter()
    try:
        with TextReader() as reader:
            text = reader.read(image)
    except OcrUnavailable as exc:
        _err(str(exc))
        return EXIT_FAILED
    if args.time:
        _err(f"{image.width}x{image.height} read in {(time.perf_counter() - started) * 1000:.0f} ms")
    if not text.strip():
        _err(f"no text found in the {image.width}x{image.height} region")
        return EXIT_FAILED
    print(text)
    if args.copy:
        _copy(text)
    return EXIT_OK


def _image(args: argparse.Namespace) -> Any:
    if args.region:
        from tray.capture.screenshot import capture_image
        from tray.capture.target import parse_region

        return capture_image(parse_region(args.region))
    from tray.ui.select_once import select_region

    chosen = select_region()
    return None if chosen is None else chosen[1]


def _copy(text: str) -> None:
    from tray_platform.base import choose_backend

    try:
        choose_backend("clipboard", env_var="SNAPLARK_CLIPBOARD").backend.copy_text(text)
    except Exception as exc:  # noqa: BLE001 - the text is printed; a clipboard failure is only reported
        _err(f"could not copy to the clipboard: {exc}")
