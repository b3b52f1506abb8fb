"""Model input | reconstruction | per-pixel error, side by side, with the error as a number."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from aegui.core.session import Analysis

ERROR_LEVELS = (0.0, 0.5)  # per-pixel squared error range of the heatmap


def image_panel(lookup_table=None) -> tuple[pg.GraphicsLayoutWidget, pg.ImageItem]:
    """A square, non-interactive 28x28 image view."""
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground("w")
    widget.setMinimumSize(90, 90)
    view = widget.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
    view.setMenuEnabled(False)
    image = pg.ImageItem(axisOrder="row-major")
    if lookup_table is not None:
        image.setLookupTable(lookup_table)
    view.addItem(image)
    view.setRange(xRange=(0, 28), yRange=(0, 28), padding=0.02)
    return widget, image


class DecodedView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        panels = [("what the model sees", None), ("reconstruction", None), ("error (x − x̂)²", pg.colormap.get("inferno").getLookupTable(nPts=256))]
        items = []
        for column, (title, lookup_table) in enumerate(panels):
            label = QLabel(title)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            widget, item = image_panel(lookup_table)
            grid.addWidget(label, 0, column)
            grid.addWidget(widget, 1, column)
            grid.setColumnStretch(column, 1)
            items.append(item)
        grid.setRowStretch(1, 1)
        self.input_item, self.reconstruction_item, self.error_item = items
        self.error_label = QLabel("Draw a digit on the left.")
        self.error_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid, 1)
        layout.addWidget(self.error_label)
        blank = np.zeros((28, 28), np.float32)
        for item in items:
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
