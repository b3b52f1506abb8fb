"""Noise robustness of the compared models, side by side: numbers and a small plot.

Display only: the figures come from the core's ``RobustnessComparison`` (measured in the
background on the reference digits, the same noisy digits for every model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from aegui.core.noise import KIND_LABELS
from aegui.qt.painting.fixed_plot import FixedPlot

if TYPE_CHECKING:
    from aegui.core.robustness import Robustness, RobustnessComparison

MODEL_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def robustness_html(results: list[tuple[str, Robustness]]) -> str:
    """One row per model: probe accuracy and reconstruction error to the clean digit at each
    strength, averaged over the four kinds of noise."""
    if not results:
        return ""
    strengths = results[0][1].strengths
    head = "".join(f"<th style='padding:0 6px'>{'clean' if s == 0 else f'noise {s:g}'}</th>" for s in strengths)
    rows = []
    for name, figures in results:
        accuracy = figures.mean_over_kinds("probe_accuracy")
        mse = figures.mean_over_kinds("mse_to_clean")
        cells = "".join(f"<td style='padding:0 6px'>{'–' if accuracy is None else f'{accuracy[i]:.3f}'} · {mse[i]:.4f}</td>" for i in range(len(strengths)))
        rows.append(f"<tr><td>{name}</td>{cells}</tr>")
    return (
        f"<b>Noise robustness</b> on {results[0][1].n_digits} reference digits: probe accuracy · MSE to the clean digit (mean of 4 kinds)"
        f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"
    )


def robustness_tooltip(results: list[tuple[str, Robustness]]) -> str:
    lines = []
    for name, figures in results:
        lines.append(name)
        for kind, values in (figures.probe_accuracy or {}).items():
            lines.append(f"  {KIND_LABELS[kind]}: probe " + ", ".join(f"{value:.3f}" for value in values))
    return "\n".join(lines)


class RobustnessView(QWidget):
    def __init__(self, comparison: RobustnessComparison, parent: QWidget | None = None):
        super().__init__(parent)
        self.numbers = QLabel("")
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        self.numbers.setWordWrap(True)
        self.plot = FixedPlot(minimum_height=90)
        self.plot.setMaximumWidth(260)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "noise strength")
        item.setLabel("left", "probe accuracy")
        item.setYRange(0.0, 1.0, padding=0.02)
        self.legend = item.addLegend(offset=(-4, 4), labelTextSize="7pt")
        self.curves: list[pg.PlotDataItem] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.numbers, 1)
        layout.addWidget(self.plot)
        self.setVisible(False)
        comparison.robustness_changed.connect(self.show_results)

    def show_results(self, results: list[tuple[str, Robustness]]) -> None:
        for curve in self.curves:
            self.plot.getPlotItem().removeItem(curve)
            self.legend.removeItem(curve)
        self.curves = []
        for index, (name, figures) in enumerate(results):
            accuracy = figures.mean_over_kinds("probe_accuracy")
            if accuracy is None:
                continue
            pen = pg.mkPen(MODEL_COLOURS[index % len(MODEL_COLOURS)], width=2)
            curve = self.plot.plot(list(figures.strengths), accuracy, pen=pen, symbol="o", symbolSize=5, symbolBrush=pen.color(), name=name)
            self.curves.append(curve)
        self.numbers.setText(robustness_html(results))
        self.setToolTip(robustness_tooltip(results))
        self.setVisible(bool(results))
