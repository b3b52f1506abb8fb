"""The reference digits whose codes are closest to the current code."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtWidgets import QLabel, QStyle, QVBoxLayout, QWidget

from aegui.qt.painting.colours import TITLE, text_style
from aegui.qt.painting.pixel_images import PixelImageRow

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import Analysis, ModelSession


class NearestDigits(QWidget):
    """The reference digits whose codes are closest to the current code."""

    def __init__(self, explorer: Explorer, count: int = 5, parent=None):
        super().__init__(parent)
        title = QLabel("nearest MNIST digits in latent space")
        title.setStyleSheet(text_style(TITLE))
        self.images = PixelImageRow(count)
        self.images.setMinimumHeight(40)
        layout = QVBoxLayout(self)
        side = self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutLeftMargin)  # in line with the canvas above (it sat 2 px from the window's edge)
        layout.setContentsMargins(side, 0, side, 0)
        layout.setSpacing(0)
        layout.addWidget(title)
        layout.addWidget(self.images, 1)
        self.shown_indices = np.zeros(0, dtype=np.int64)
        explorer.model_changed.connect(self.set_session)
        explorer.analysis_changed.connect(self.show_analysis)

    def set_session(self, session: ModelSession) -> None:
        self.shown_indices = np.zeros(0, dtype=np.int64)
        self.images.forget_converted()  # keys are reference indices: valid for one set of digits

    def show_analysis(self, analysis: Analysis) -> None:
        session = analysis.session
        indices = np.asarray(analysis.neighbours)
        if np.array_equal(indices, self.shown_indices):
            return  # the same neighbours: nothing to repaint
        self.shown_indices = indices
        reference = session.reference
        self.images.set_images([reference.images[index] for index in indices], tooltips=[f"digit {reference.labels[index]}" for index in indices], keys=[int(index) for index in indices])
