"""What the code says: anomaly meter, digit probabilities from the linear probe, neighbours."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from aegui.core.anomaly import NOT_A_DIGIT_ABOVE, TYPICAL_BELOW
from aegui.core.session import Analysis, ModelSession
from aegui.qt.fixed_plot import FixedPlot

VERDICT_COLOURS = {"typical digit": "#2e9d3a", "unusual": "#d98c00", "not a digit": "#c62828"}


class AnomalyMeter(QWidget):
    """The sketch's reconstruction error as a percentile of held-out MNIST digits' errors."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setFormat("no sketch")
        self.verdict_label = QLabel("")
        self.verdict_label.setMinimumWidth(110)
        thresholds = QLabel(f"typical ≤ {TYPICAL_BELOW:.0f}th percentile < unusual ≤ {NOT_A_DIGIT_ABOVE:.0f}th < not a digit")
        thresholds.setStyleSheet("color: #666; font-size: 9pt")
        row = QHBoxLayout()
        row.addWidget(QLabel("Anomaly"))
        row.addWidget(self.bar, 1)
        row.addWidget(self.verdict_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(thresholds)
        self.verdict: str | None = None

    def show_analysis(self, analysis: Analysis) -> None:
        if analysis.error_percentile is None:
            self.verdict = None
            self.bar.setValue(0)
            self.bar.setFormat("no sketch to compare")
            self.verdict_label.setText("")
            return
        self.verdict = analysis.verdict
        self.bar.setValue(int(round(analysis.error_percentile * 10)))
        self.bar.setFormat(f"error percentile {analysis.error_percentile:.1f}")
        self.bar.setToolTip(f"The sketch reconstructs worse than {analysis.error_percentile:.1f}% of held-out MNIST digits.")
        colour = VERDICT_COLOURS[analysis.verdict]
        self.bar.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
        self.verdict_label.setText(f"<b style='color:{colour}'>{analysis.verdict}</b>")


class DigitProbabilities(FixedPlot):
    """Linear probe on the code: p(digit | h) for 0-9."""

    def __init__(self, parent=None):
        super().__init__(parent, minimum_height=110)
        plot = self.getPlotItem()
        plot.setYRange(0, 1, padding=0.02)
        plot.setXRange(-0.6, 9.6, padding=0)
        plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)]])
        plot.setTitle("digit from the code (linear probe)", size="9pt")
        self._bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7, brush=(90, 160, 90))
        plot.addItem(self._bars)
        self.probabilities = np.zeros(10, np.float32)

    def show_analysis(self, analysis: Analysis) -> None:
        probabilities = analysis.digit_probabilities
        self.probabilities = np.zeros(10, np.float32) if probabilities is None else probabilities
        self._bars.setOpts(height=self.probabilities)
        title = "digit from the code (linear probe)" if probabilities is not None else "this checkpoint has no linear probe"
        if probabilities is not None:
            title += f": {int(np.argmax(probabilities))} ({float(np.max(probabilities)):.0%})"
        self.getPlotItem().setTitle(title, size="9pt")


class NearestDigits(pg.GraphicsLayoutWidget):
    """The reference digits whose codes are closest to the current code."""

    def __init__(self, count: int = 5, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumHeight(80)
        self.addLabel("nearest MNIST digits in latent space", size="8pt", color="#333", colspan=count)
        self.nextRow()
        self._items = []
        self._labels = []
        for _ in range(count):
            view = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
            view.setMenuEnabled(False)
            item = pg.ImageItem(axisOrder="row-major")
            view.addItem(item)
            view.setRange(xRange=(0, 28), yRange=(0, 28), padding=0.02)
            self._items.append(item)
        self._session: ModelSession | None = None
        self.shown_indices = np.zeros(0, dtype=np.int64)

    def set_session(self, session: ModelSession) -> None:
        self._session = session

    def show_analysis(self, analysis: Analysis) -> None:
        session = analysis.session
        self.shown_indices = analysis.neighbours
        for item, index in zip(self._items, analysis.neighbours):
            item.setImage(session.reference.images[index], levels=(0, 1))
            item.setToolTip(f"digit {session.reference.labels[index]}")
