"""Screenshot annotator: document model (pure Pillow) + tools (one class per tool) + the Tk window.

Importing this package does not import tkinter; only constructing :class:`AnnotatorWindow` does.
"""

from tray.ui.annotator.document import AnnotationDocument
from tray.ui.annotator.window import PALETTE, AnnotatorWindow

__all__ = ["AnnotationDocument", "AnnotatorWindow", "PALETTE"]
