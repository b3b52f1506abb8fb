"""Model input | reconstruction | per-pixel error, side by side, with the error as a number."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from aegui.core.session import Analysis

ERROR_LEVELS = (0.0, 0.5)  # per-pixel squared error range of the heatmap


def _image_panel(layout: pg.GraphicsLayoutWidget, title: str, lookup_table=None) -> pg.ImageItem:
    view = layout.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
    view.setMenuEnabled(False)
    image = pg.ImageItem(axisOrder="row-major")
    if lookup_table is not None:
        image.setLookupTable(lookup_table)
    view.addItem(image)
    view.setRange(xRange=(0, 28), yRange=(0, 28), padding=0.02)
    return image


class DecodedView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._titles = pg.GraphicsLayoutWidget()
        self._titles.setBackground("w")
        self._titles.setMinimumHeight(150)
        for title in ("what the model sees", "reconstruction", "error (x - x̂)²"):
            self._titles.addLabel(title, size="9pt", color="#333")
        self._titles.nextRow()
        self.input_item = _image_panel(self._titles, "input")
        self.reconstruction_item = _image_panel(self._titles, "reconstruction")
        self.error_item = _image_panel(self._titles, "error", pg.colormap.get("inferno").getLookupTable(nPts=256))
        self.error_label = QLabel("Draw a digit on the left.")
        self.error_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._titles, 1)
        layout.addWidget(self.error_label)
        blank = np.zeros((28, 28), np.float32)
        for item in (self.input_item, self.reconstruction_item, self.error_item):
            item.setImage(blank, levels=(0, 1))

    def show_analysis(self, analysis: Analysis) -> None:
        blank = np.zeros((28, 28), np.float32)
        self.input_item.setImage(analysis.input_image if analysis.input_image is not None else blank, levels=(0, 1))
        self.reconstruction_item.setImage(analysis.reconstruction, levels=(0, 1))
        self.error_item.setImage(analysis.error_map if analysis.error_map is not None else blank, levels=ERROR_LEVELS)
        if analysis.reconstruction_error is None:
            self.error_label.setText(f"Decoded from a code set by {analysis.origin}; no input to compare with.")
        else:
            self.error_label.setText(f"reconstruction error ‖x − x̂‖² / 784 = {analysis.reconstruction_error:.4f}")

    def reconstruction(self) -> np.ndarray:
        return np.array(self.reconstruction_item.image)

    def model_input(self) -> np.ndarray:
        return np.array(self.input_item.image)
