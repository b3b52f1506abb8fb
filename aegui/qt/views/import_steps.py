"""Bringing a photo or scan of a digit onto the canvas: open, drop or paste, with its steps shown.

The preparation itself is the core's (``aegui.core.image_import``) and runs on the executor,
off the GUI thread (latest request wins). The result replaces the sketch as one undoable step,
so the user edits it with the pen and eraser like anything drawn; a small window shows the
image at each step, so a poor result shows where it went wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QClipboard, QImage, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from aegui.core.executor import Executor
from aegui.core.image_import import IMAGE_SUFFIXES, ImageImportError, ImportedImage, import_image, prepare_photo
from aegui.qt.views.canvas import RASTER_SIZE, DrawingCanvas

IMPORT_CHANNEL = "image-import"
STEP_SIDE = 112  # px each step is shown at
IMAGE_FILTER = "Images (" + " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES) + ")"


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def step_pixmap(image: np.ndarray, side: int = STEP_SIDE) -> QPixmap:
    """A step's image (grey or RGB floats in [0, 1]) as a pixmap ``side`` px on its longer side."""
    values = np.ascontiguousarray(np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8))
    height, width = values.shape[:2]
    if values.ndim == 3:
        picture = QImage(values.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    else:
        picture = QImage(values.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    mode = Qt.TransformationMode.FastTransformation if max(width, height) < side / 2 else Qt.TransformationMode.SmoothTransformation
    return QPixmap.fromImage(picture.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode))


class ImportStepsDialog(QDialog):
    """Each preparation step's image with its name, in reading order."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Imported image: the steps")
        self.grid = QGridLayout()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addLayout(self.grid)
        layout.addWidget(buttons)
        self.step_titles: list[str] = []

    def show_steps(self, name: str, imported: ImportedImage) -> None:
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        self.step_titles = [step.title for step in imported.steps]
        for index, step in enumerate(imported.steps):
            picture = QLabel()
            picture.setPixmap(step_pixmap(step.image))
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title = QLabel(f"{index + 1}. {step.title}")
            picture.setToolTip(STEP_NOTES.get(step.title, ""))
            title.setToolTip(picture.toolTip())
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            row, column = divmod(index, 4)
            self.grid.addWidget(picture, 2 * row, column)
            self.grid.addWidget(title, 2 * row + 1, column)
        self.caption.setText(f"{name}: now on the canvas as a sketch. Draw on it or erase (right button); Ctrl+Z brings back what was there.")


STEP_NOTES = {  # a step whose picture can look like a fault says what it shows
    "shading to subtract": "The paper's light, estimated where no ink is and subtracted from the ink: "
    "black where the light is even (nothing to subtract), grey where a shadow or a gradient lay.",
}


class ImageImporter(QObject):
    """Reads and prepares an image in the background, then puts it on the canvas."""

    imported = Signal(object)  # ImportedImage, now on the canvas
    failed = Signal(str)  # one line for the user; the canvas is untouched

    def __init__(self, canvas: DrawingCanvas, executor: Executor, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.executor = executor
        self.dialog = ImportStepsDialog(parent)

    def import_file(self, path: str | Path) -> None:
        self._submit(Path(path).name, lambda: import_image(path, RASTER_SIZE))

    def import_clipboard(self, clipboard: QClipboard) -> bool:
        """Import the clipboard's image (or an image file copied in a file manager); False
        when it holds neither."""
        data = clipboard.mimeData()
        files = [url.toLocalFile() for url in data.urls() if url.isLocalFile() and is_image_file(url.toLocalFile())] if data is not None else []
        if files:
            self.import_file(files[0])
            return True
        picture = clipboard.image()
        if picture.isNull():
            return False
        rgb = picture.convertToFormat(QImage.Format.Format_RGB888)
        values = np.frombuffer(rgb.constBits(), dtype=np.uint8).reshape(rgb.height(), rgb.bytesPerLine())[:, : 3 * rgb.width()]
        photo = values.reshape(rgb.height(), rgb.width(), 3).astype(np.float32) / 255.0
        self._submit("the pasted image", lambda: prepare_photo(photo, RASTER_SIZE))
        return True

    def _submit(self, name: str, job) -> None:
        def done(result: ImportedImage) -> None:
            if not result.canvas.any():  # a blank page: wiping the sketch and calling it imported helps no one
                self.failed.emit(f"{name}: no ink found (nothing in it stands out from its paper); the canvas keeps its sketch.")
                return
            self.canvas.set_ink(result.canvas)
            self.dialog.show_steps(name, result)
            self.dialog.show()
            self.imported.emit(result)

        def failed(error: BaseException) -> None:
            message = str(error) if isinstance(error, ImageImportError) else f"{name} could not be imported: {error}"
            self.failed.emit(message)

        self.executor.submit(IMPORT_CHANNEL, job, done, failed)
