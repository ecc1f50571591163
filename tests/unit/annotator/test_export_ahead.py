"""The annotator encodes the screenshot ahead (issue 21 goal 3): while the user looks at it, a worker thread writes
its PNG, so Upload/Copy/Save with no annotation need not wait; with annotations the export is rendered afresh."""

import threading
from io import BytesIO

from PIL import Image

from tray.capture import png_fast
from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.tools import ToolKind

from .helpers import gesture, is_red, noise, px


def test_an_unannotated_export_is_the_png_encoded_ahead_on_a_worker(monkeypatch):
    base = noise(300, 200)
    doc = AnnotationDocument(base)
    threads: list[str] = []
    real = png_fast.encode_image

    def spy(image):
        threads.append(threading.current_thread().name)
        return real(image)

    monkeypatch.setattr(png_fast, "encode_image", spy)
    doc.encode_base_ahead()
    doc.encode_base_ahead()  # idempotent: one worker
    png = doc.export_png()
    assert threads == ["snaplark-png-ahead"]  # exported without encoding on this thread
    assert Image.open(BytesIO(png)).tobytes() == base.convert("RGB").tobytes()  # lossless
    assert doc.export_png() == png


def test_annotations_are_rendered_afresh_and_undoing_them_brings_back_the_ahead_png():
    base = noise(300, 200)
    doc = AnnotationDocument(base)
    doc.encode_base_ahead()
    ahead = doc.export_png()
    gesture(doc, ToolKind.RECTANGLE, [(100, 100), (200, 150)], width=2)
    annotated = Image.open(BytesIO(doc.export_png()))
    assert is_red(px(annotated, 100, 120)) and px(annotated, 5, 5) == px(base, 5, 5)
    doc.undo()
    assert doc.export_png() == ahead


def test_a_failed_worker_falls_back_to_encoding_on_the_caller(monkeypatch):
    doc = AnnotationDocument(noise(40, 30))
    calls = []

    def failing_once(image):
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            raise MemoryError("worker out of memory")
        return real(image)

    real = png_fast.encode_image
    monkeypatch.setattr(png_fast, "encode_image", failing_once)
    doc.encode_base_ahead()
    png = doc.export_png()
    assert calls == ["snaplark-png-ahead", threading.current_thread().name]
    assert Image.open(BytesIO(png)).size == (40, 30)
