"""Copy text from region: an OCR engine that fails is told to the user (the message reaches the Tk thread)."""

from __future__ import annotations

from PIL import Image

from tray.ui.text_capture import TextCapture


class Ctx:
    def __init__(self):
        self.posted = []
        self.errors = []

    def post(self, fn):
        self.posted.append(fn)  # run later, as the Tk thread would

    def notify_error(self, title, body):
        self.errors.append((title, body))


class BrokenReader:
    def read(self, image):
        raise RuntimeError("tessdata missing: eng.traineddata")

    def close(self):
        pass


def test_a_failing_engine_is_reported_on_the_tk_thread():
    ctx = Ctx()
    capture = TextCapture(ctx, captures=None, reader_factory=BrokenReader)
    capture._read(Image.new("RGB", (20, 10), "white"))
    capture._worker.join(10)
    assert not capture.busy and len(ctx.posted) == 1
    ctx.posted[0]()  # what the Tk thread does with it (the except block is long over by then)
    assert ctx.errors == [("Could not read text", "tessdata missing: eng.traineddata")]
