"""Digit probabilities from the checkpoint's linear probe on the code."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem

from aegui.core.model_format import N_CLASSES
from aegui.qt.painting.fixed_plot import FixedPlot, RectBars
from aegui.qt.painting.pace import Pace, words_of

if TYPE_CHECKING:
    from aegui.core.explorer import Explorer
    from aegui.core.session import Analysis


class DigitProbabilities(FixedPlot):
    """Linear probe on the code: p(digit | h) for 0-9."""

    def __init__(self, explorer: Explorer, parent=None):
        super().__init__(parent, minimum_height=118)  # a 60-pixel data area under its title and digits
        plot = self.getPlotItem()
        plot.setYRange(0, 1, padding=0.02)
        plot.setXRange(-0.6, 9.6, padding=0)
        plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(N_CLASSES)]])
        plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, ".5"), (1.0, "1")]])  # legible in a short plot
        self.title = "digit from the code (linear probe)"
        plot.setTitle(self.title, size="9pt")
        self._bars = RectBars(plot, width=0.7, brush=(90, 160, 90))
        self._bars.set_heights(np.zeros(N_CLASSES))
        # The prediction is a text item inside the plot (a changing title would relayout the
        # plot), a plain Qt one: it changes with most pen events, and pyqtgraph's TextItem
        # lays itself out again in Python on every change.
        self._prediction = QGraphicsSimpleTextItem()
        self._prediction.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._prediction.setBrush(QColor(30, 30, 30))
        self._prediction.setPos(9.6, 1.0)  # top right, right-aligned (top left for a digit above 4: clear of its bar)
        plot.addItem(self._prediction, ignoreBounds=True)
        self.prediction_text = ""  # as shown: the reading's words follow at a readable pace
        # at the pace, the digit read too (a near tie would flip it, and the corner it sits in,
        # on every pen event; the bars show the tie); "mean code:" and no probe at once
        self._prediction_pace = Pace(self._show_prediction, shown=("", False), kind=lambda shown: words_of(shown[0]), parent=self)
        self.probabilities = np.zeros(N_CLASSES, np.float32)
        explorer.analysis_changed.connect(self.show_analysis)

    def show_analysis(self, analysis: Analysis) -> None:
        probabilities = analysis.digit_probabilities
        self.probabilities = np.zeros(N_CLASSES, np.float32) if probabilities is None else probabilities
        self._bars.set_heights(self.probabilities)
        title = "digit from the code (linear probe)" if probabilities is not None else "this checkpoint has no linear probe"
        if title != self.title:
            self.title = title
            self.getPlotItem().setTitle(title, size="9pt")
        text = "" if probabilities is None else f"{int(np.argmax(probabilities))} ({float(np.max(probabilities)):.0%})"
        if text and analysis.origin == "mean":
            text = f"mean code: {text}"
        # over the half the predicted digit's bar is not in: a bar reaching the top is the
        # predicted one (the others sum to less than half), so the text never covers it
        self._prediction_pace.request((text, probabilities is not None and int(np.argmax(probabilities)) > 4))

    def _show_prediction(self, shown: tuple[str, bool]) -> None:
        text, on_the_left = shown
        if text != self.prediction_text:
            before = self.prediction_device_rect()
            self.prediction_text = text
            self._prediction.setText(text)
            if on_the_left:
                self._prediction.setPos(-0.6, 1.0)
                self._prediction.setTransform(QTransform.fromTranslate(4, 0))
            else:
                self._prediction.setPos(9.6, 1.0)
                self._prediction.setTransform(QTransform.fromTranslate(-self._prediction.boundingRect().width() - 4, 0))
            # An item drawn in pixels (ItemIgnoresTransformations) reports its change in scene
            # units, which the plot maps to pixels above its top: name the text's pixels itself,
            # through the scene, so they are painted in the same pass as the bars.
            self.scene().update(self.mapToScene(before.united(self.prediction_device_rect())).boundingRect())

    def prediction_device_rect(self) -> QRect:
        """Where the prediction text is on the viewport, in pixels (a little margin around it)."""
        item = self._prediction
        return item.deviceTransform(self.viewportTransform()).mapRect(item.boundingRect()).toAlignedRect().adjusted(-2, -2, 2, 2)
